"""An independent Python restatement of the key rules (docs/KEYING.md), used by gen_vectors.py.

It shares no code with the Rust implementation: JSON is read by Python's `json` module with
hooks, numbers are judged with `decimal`, and each merged-form rule is written again from the
documentation. The Rust tests compare both implementations through the vectors.
"""
import hashlib
import itertools
import json
import re
import struct
from decimal import Decimal

PER_CALL = {
    "openai-chat": ["user", "safety_identifier", "metadata", "store", "stream", "stream_options",
                    "service_tier", "prompt_cache_key", "prompt_cache_retention",
                    "prompt_cache_options"],
    "openai-responses": ["user", "safety_identifier", "metadata", "store", "stream",
                         "stream_options", "service_tier", "prompt_cache_key",
                         "prompt_cache_retention", "prompt_cache_options"],
    "anthropic": ["metadata", "stream", "service_tier", "cache_control"],
    "gemini": ["labels"],
    "generic": ["stream", "stream_options"],
}


# ---------- numbers ----------
def es6(f):
    """ECMAScript Number.prototype.toString of a finite double."""
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("non-finite")
    if f == 0:
        return "0"
    if f < 0:
        return "-" + es6(-f)
    r = repr(f)
    mant, _, exp = r.partition("e")
    exp = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    if ip != "0":
        n = len(ip) + exp
        digits = (ip + fp).lstrip("0")
    else:
        n = exp - (len(fp) - len(fp.lstrip("0")))
        digits = fp.lstrip("0")
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    s = "+" if e >= 0 else "-"
    if k == 1:
        return digits + "e" + s + str(abs(e))
    return digits[0] + "." + digits[1:] + "e" + s + str(abs(e))


RFC_B = [("0000000000000001", "5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
         ("4430000000000000", "295147905179352830000"), ("44b52d02c7e14af6", "1e+23"),
         ("444b1ae4d6e2ef50", "1e+21"), ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
         ("3eb0c6f7a0b5ed8d", "0.000001"), ("41b3de4355555557", "333333333.33333343"),
         ("becbf647612f3696", "-0.0000033333333333333333"),
         ("43143ff3c1cb0959", "1424953923781206.2")]
for _h, _want in RFC_B:
    assert es6(struct.unpack(">d", bytes.fromhex(_h))[0]) == _want, _h


class NumError(Exception):
    def __init__(self, kind, literal):
        super().__init__(kind)
        self.kind = kind
        self.literal = literal if len(literal) <= 40 else literal[:40] + "..."


class Num:
    """A number: its canonical text and its nearest double."""
    __slots__ = ("text", "value")

    def __init__(self, literal):
        if not any(c in literal for c in ".eE"):
            # An integer literal keeps its exact value.
            self.text = str(int(literal))
            try:
                self.value = float(int(literal))
            except OverflowError:
                self.value = float("inf")
            return
        d = float(literal)
        if d in (float("inf"), float("-inf")):
            raise NumError("range", literal)
        exact = Decimal(literal)
        self.value = d
        if abs(exact) > 2 ** 53:
            if Decimal(d) != exact:
                raise NumError("inexact", literal)
            self.text = str(int(d)) if abs(d) < 1e21 else es6(d)
        else:
            self.text = es6(d)

    def __eq__(self, other):
        return isinstance(other, Num) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return "Num(%s)" % self.text


def is_num(v, x):
    return isinstance(v, Num) and v.value == x


# ---------- parsing ----------
class KeyError_(Exception):
    """A request with no key; the message is the exact Redis error line."""


_seq = itertools.count()


class _Bad:
    """An error noticed while parsing, with the order in which the Rust parser meets it."""

    def __init__(self, kind, detail, children=None):
        self.seq = next(_seq)
        self.kind = kind
        self.detail = detail
        self.children = children


def utf16_key(s):
    return s.encode("utf-16-be")


def _pairs(pairs):
    names = [k for k, _ in pairs]
    dups = {k for k in names if names.count(k) > 1}
    if dups:
        return _Bad("dup", min(dups, key=utf16_key), pairs)
    return dict(pairs)


def _number(text):
    try:
        return Num(text)
    except NumError as e:
        return _Bad("num", e)


def quoted(name):
    raw = name.encode()
    cut = min(len(raw), 64)
    while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
        cut -= 1
    text = json.dumps(raw[:cut].decode(), ensure_ascii=False)
    return text[:-1] + "..." + text[-1] if cut < len(raw) else text


def pointer(path):
    out = ""
    for seg in path:
        out += "/" + (str(seg) if isinstance(seg, int) else
                      quoted(seg.replace("~", "~0").replace("/", "~1"))[1:-1])
    return out


def _first_bad(v, path, found):
    if isinstance(v, _Bad):
        found.append((v.seq, v, path))
        for k, x in v.children or []:
            _first_bad(x, path + [k], found)
        return
    if isinstance(v, dict):
        for k, x in v.items():
            _first_bad(x, path + [k], found)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _first_bad(x, path + [i], found)


def _where(path):
    return "at the top level" if not path else "in " + pointer(path)


def parse(text):
    """The request tree (dicts, lists, str, bool, None, Num), or KeyError_."""
    try:
        tree = json.loads(text, object_pairs_hook=_pairs, parse_int=_number,
                          parse_float=_number, parse_constant=_no_constant)
    except ValueError as e:
        raise KeyError_("ERR request is not valid JSON (Python: %s)" % e)
    found = []
    _first_bad(tree, [], found)
    if found:
        _, bad, path = min(found, key=lambda f: f[0])
        if bad.kind == "dup":
            raise KeyError_("ERR request has two members named %s %s; providers differ in "
                            "which one they read" % (quoted(bad.detail), _where(path)))
        e = bad.detail
        at = " (at %s)" % pointer(path) if path else ""
        if e.kind == "range":
            raise KeyError_("ERR number %s%s is out of the range of a double" % (e.literal, at))
        raise KeyError_("ERR number %s%s is beyond 2^53 and no double holds it exactly; write "
                        "an integer without fraction or exponent" % (e.literal, at))
    return tree


def _no_constant(name):
    raise ValueError("no " + name)


# ---------- JCS ----------
def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Num):
        return v.text
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: utf16_key(kv[0]))
        return "{" + ",".join(jcs(k) + ":" + jcs(x) for k, x in items) + "}"
    raise TypeError(v)


# ---------- merged forms (docs/KEYING.md, "Merged forms") ----------
def _objects(v):
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _one_text(content, block_type):
    if (isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict)
            and set(content[0]) == {"type", "text"} and content[0]["type"] == block_type
            and isinstance(content[0]["text"], str)):
        return content[0]["text"]
    return content


def _has_tools(b):
    return isinstance(b.get("tools"), list) and len(b["tools"]) > 0


def _drop(d, name, pred):
    if name in d and pred(d[name]):
        del d[name]


def merge_chat(b):
    for m in _objects(b.get("messages")):
        for p in _objects(m.get("content")):
            p.pop("prompt_cache_breakpoint", None)
            if p.get("type") == "image_url" and isinstance(p.get("image_url"), dict):
                _drop(p["image_url"], "detail", lambda d: d == "auto")
        if "content" in m and m.get("role") in ("system", "developer", "user", "assistant",
                                                 "tool"):
            m["content"] = _one_text(m["content"], "text")
    for name, default in [("n", 1), ("presence_penalty", 0), ("frequency_penalty", 0),
                          ("top_p", 1)]:
        _drop(b, name, lambda v: is_num(v, default))
    _drop(b, "logprobs", lambda v: v is False)
    _drop(b, "parallel_tool_calls", lambda v: v is True)
    _drop(b, "response_format", lambda v: v == {"type": "text"})
    if _has_tools(b):
        _drop(b, "tool_choice", lambda v: v == "auto")


def merge_responses(b):
    for item in _objects(b.get("input")):
        if "role" not in item:
            continue
        if set(item) <= {"type", "role", "content"}:
            _drop(item, "type", lambda t: t == "message")
        for p in _objects(item.get("content")):
            p.pop("prompt_cache_breakpoint", None)
            if p.get("type") == "input_image":
                _drop(p, "detail", lambda d: d == "auto")
        if item["role"] in ("user", "system", "developer") and "content" in item:
            item["content"] = _one_text(item["content"], "input_text")
    inp = b.get("input")
    if (isinstance(inp, list) and len(inp) == 1 and isinstance(inp[0], dict)
            and set(inp[0]) == {"role", "content"} and inp[0]["role"] == "user"
            and isinstance(inp[0]["content"], str)):
        b["input"] = inp[0]["content"]
    _drop(b, "top_p", lambda v: is_num(v, 1))
    _drop(b, "parallel_tool_calls", lambda v: v is True)
    _drop(b, "truncation", lambda v: v == "disabled")
    _drop(b, "background", lambda v: v is False)
    if isinstance(b.get("text"), dict):
        _drop(b["text"], "format", lambda f: f == {"type": "text"})
    _drop(b, "text", lambda t: t == {})
    if isinstance(b.get("include"), list) and all(isinstance(x, str) for x in b["include"]):
        b["include"] = sorted(b["include"], key=jcs)


def merge_anthropic(b):
    for block in _objects(b.get("system")):
        block.pop("cache_control", None)
    if "system" in b:
        b["system"] = _one_text(b["system"], "text")
    for tool in _objects(b.get("tools")):
        tool.pop("cache_control", None)
    for m in _objects(b.get("messages")):
        for block in _objects(m.get("content")):
            block.pop("cache_control", None)
            if block.get("type") in ("tool_result", "search_result"):
                for inner in _objects(block.get("content")):
                    inner.pop("cache_control", None)
        if "content" in m:
            m["content"] = _one_text(m["content"], "text")
    _drop(b, "thinking", lambda t: t == {"type": "disabled"})
    if isinstance(b.get("tool_choice"), dict):
        _drop(b["tool_choice"], "disable_parallel_tool_use", lambda v: v is False)
    if _has_tools(b):
        _drop(b, "tool_choice", lambda c: c == {"type": "auto"})


# Gemini message types: field (camelCase JSON name) -> what it holds. None: a value (renamed,
# never entered); ("msg", T), ("list", T), ("map", T): a message, a list of them, a map from
# user-chosen names to them.
V = None
GEMINI = {
    "Request": {"contents": ("list", "Content"), "tools": ("list", "Tool"),
                "toolConfig": ("msg", "ToolConfig"), "safetySettings": ("list", "SafetySetting"),
                "systemInstruction": ("msg", "Content"),
                "generationConfig": ("msg", "GenerationConfig"), "cachedContent": V},
    "Content": {"role": V, "parts": ("list", "Part")},
    "Part": {"text": V, "thought": V, "thoughtSignature": V, "inlineData": ("msg", "Blob"),
             "fileData": ("msg", "FileData"), "functionCall": ("msg", "FunctionCall"),
             "functionResponse": ("msg", "FunctionResponse"),
             "executableCode": ("msg", "ExecutableCode"),
             "codeExecutionResult": ("msg", "CodeExecutionResult"),
             "videoMetadata": ("msg", "VideoMetadata"), "partMetadata": V,
             "mediaResolution": V},
    "Blob": {"mimeType": V, "data": V},
    "FileData": {"mimeType": V, "fileUri": V},
    "FunctionCall": {"id": V, "name": V, "args": V},
    "FunctionResponse": {"id": V, "name": V, "response": V, "parts": V, "willContinue": V,
                         "scheduling": V},
    "ExecutableCode": {"language": V, "code": V},
    "CodeExecutionResult": {"outcome": V, "output": V},
    "VideoMetadata": {"startOffset": V, "endOffset": V, "fps": V},
    "Tool": {"functionDeclarations": ("list", "FunctionDeclaration"),
             "googleSearchRetrieval": ("msg", "GoogleSearchRetrieval"), "codeExecution": V,
             "googleSearch": ("msg", "GoogleSearch"), "urlContext": V,
             "computerUse": ("msg", "ComputerUse"), "fileSearch": ("msg", "FileSearch"),
             "googleMaps": ("msg", "GoogleMaps"), "enterpriseWebSearch": V, "retrieval": V},
    "FunctionDeclaration": {"name": V, "description": V, "behavior": V,
                            "parameters": ("msg", "Schema"), "parametersJsonSchema": V,
                            "response": ("msg", "Schema"), "responseJsonSchema": V},
    "Schema": {"type": V, "format": V, "title": V, "description": V, "nullable": V, "enum": V,
               "maxItems": V, "minItems": V, "properties": ("map", "Schema"), "required": V,
               "minProperties": V, "maxProperties": V, "minLength": V, "maxLength": V,
               "pattern": V, "example": V, "anyOf": ("list", "Schema"), "propertyOrdering": V,
               "default": V, "items": ("msg", "Schema"), "minimum": V, "maximum": V},
    "GoogleSearchRetrieval": {"dynamicRetrievalConfig": ("msg", "DynamicRetrievalConfig")},
    "DynamicRetrievalConfig": {"mode": V, "dynamicThreshold": V},
    "GoogleSearch": {"timeRangeFilter": ("msg", "Interval")},
    "Interval": {"startTime": V, "endTime": V},
    "ComputerUse": {"environment": V, "excludedPredefinedFunctions": V},
    "FileSearch": {"fileSearchStoreNames": V, "metadataFilter": V, "topK": V},
    "GoogleMaps": {"enableWidget": V},
    "ToolConfig": {"functionCallingConfig": ("msg", "FunctionCallingConfig"),
                   "retrievalConfig": ("msg", "RetrievalConfig")},
    "FunctionCallingConfig": {"mode": V, "allowedFunctionNames": V},
    "RetrievalConfig": {"latLng": ("msg", "LatLng"), "languageCode": V},
    "LatLng": {"latitude": V, "longitude": V},
    "SafetySetting": {"category": V, "threshold": V, "method": V},
    "GenerationConfig": {"stopSequences": V, "responseMimeType": V,
                         "responseSchema": ("msg", "Schema"), "responseJsonSchema": V,
                         "responseModalities": V, "candidateCount": V, "maxOutputTokens": V,
                         "temperature": V, "topP": V, "topK": V, "seed": V,
                         "presencePenalty": V, "frequencyPenalty": V, "responseLogprobs": V,
                         "logprobs": V, "enableEnhancedCivicAnswers": V,
                         "speechConfig": ("msg", "SpeechConfig"),
                         "thinkingConfig": ("msg", "ThinkingConfig"),
                         "imageConfig": ("msg", "ImageConfig"), "mediaResolution": V,
                         "audioTimestamp": V, "routingConfig": V},
    "ThinkingConfig": {"includeThoughts": V, "thinkingBudget": V, "thinkingLevel": V},
    "ImageConfig": {"aspectRatio": V, "imageSize": V},
    "SpeechConfig": {"voiceConfig": ("msg", "VoiceConfig"),
                     "multiSpeakerVoiceConfig": ("msg", "MultiSpeakerVoiceConfig"),
                     "languageCode": V},
    "VoiceConfig": {"prebuiltVoiceConfig": ("msg", "PrebuiltVoiceConfig")},
    "PrebuiltVoiceConfig": {"voiceName": V},
    "MultiSpeakerVoiceConfig": {"speakerVoiceConfigs": ("list", "SpeakerVoiceConfig")},
    "SpeakerVoiceConfig": {"speaker": V, "voiceConfig": ("msg", "VoiceConfig")},
}


class _Conflict(Exception):
    def __init__(self, camel, snake, path):
        super().__init__(camel)
        self.camel, self.snake, self.path = camel, snake, path


def _snake(camel):
    return re.sub("[A-Z]", lambda m: "_" + m.group().lower(), camel)


def _walk(msg, obj, path):
    for camel, kind in GEMINI[msg].items():
        snake = _snake(camel)
        if snake != camel and snake in obj:
            value = obj.pop(snake)
            _enter(kind, value, path + [snake])
            if camel in obj:
                _enter(kind, obj[camel], path + [camel])
                if obj[camel] != value:
                    raise _Conflict(camel, snake, path)
            else:
                obj[camel] = value
            continue
        if camel in obj:
            _enter(kind, obj[camel], path + [camel])


def _enter(kind, value, path):
    if kind is None:
        return
    how, msg = kind
    if how == "msg" and isinstance(value, dict):
        _walk(msg, value, path)
    elif how == "list" and isinstance(value, list):
        for i, x in enumerate(value):
            if isinstance(x, dict):
                _walk(msg, x, path + [i])
    elif how == "map" and isinstance(value, dict):
        for name, x in value.items():
            if isinstance(x, dict):
                _walk(msg, x, path + [name])


def merge_gemini(b):
    try:
        _walk("Request", b, [])
    except _Conflict as c:
        raise KeyError_("ERR Gemini fields %s and %s are one field with two values %s; send "
                        "one spelling" % (json.dumps(c.camel), json.dumps(c.snake),
                                          _where(c.path)))
    cfg = b.get("generationConfig")
    if isinstance(cfg, dict):
        _drop(cfg, "candidateCount", lambda v: is_num(v, 1))
        _drop(cfg, "responseMimeType", lambda v: v == "text/plain")
        stops = cfg.get("stopSequences")
        if isinstance(stops, list) and all(isinstance(s, str) for s in stops):
            cfg["stopSequences"] = sorted(stops, key=jcs)
        if not cfg:
            del b["generationConfig"]
    settings = b.get("safetySettings")
    if isinstance(settings, list) and all(
            isinstance(s, dict) and isinstance(s.get("category"), str) for s in settings):
        cats = [s["category"] for s in settings]
        if len(set(cats)) == len(cats):
            b["safetySettings"] = sorted(settings, key=lambda s: s["category"])


MERGE = {"openai-chat": merge_chat, "openai-responses": merge_responses,
         "anthropic": merge_anthropic, "gemini": merge_gemini, "generic": lambda b: None}


# ---------- the key ----------
def slug(model):
    keep = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/@+")
    return "".join(chr(b) if b in keep else "%%%02X" % b for b in model.encode())


def option(args, word):
    """The value after `word` in the option words, case-insensitively."""
    for i, w in enumerate(args):
        if w.upper() == word and i + 1 < len(args):
            return args[i + 1]
    return None


def material_and_key(dialect, text, args=()):
    """The key material and key of the request `text` (cacheability is not checked here)."""
    body = parse(text)
    if not isinstance(body, dict):
        raise KeyError_("ERR request must be a JSON object")
    m = option(args, "MODEL") or body["model"]
    if dialect == "gemini" and m.startswith("models/"):
        m = m[len("models/"):]
    MERGE[dialect](body)
    kept = {k: v for k, v in body.items() if k != "model" and k not in PER_CALL[dialect]}
    elements = ["llm:v1", dialect, m, kept]
    fmt = option(args, "FORMAT")
    if fmt is not None:
        elements.append(fmt)
    material = jcs(elements)
    key = "llm:v1:%s:%s" % (slug(m), hashlib.sha256(material.encode()).hexdigest())
    return material, key
