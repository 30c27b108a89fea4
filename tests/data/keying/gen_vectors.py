#!/usr/bin/env python3
"""Writes the keying vectors (*.json beside this file), read by tests/keying_vectors.rs.

Golden keys and key material are computed here by an independent Python restatement of the key
rules (JCS, the per-call field lists, the key material array, the model segment), so the Rust
test cross-checks two implementations. Within key version v1 the golden entries must never
change: run this only to add vectors, and check with `git diff` that no existing key moved.

Usage: python3 tests/data/keying/gen_vectors.py
"""
import copy
import hashlib
import json
import os
import struct

OUT = os.path.dirname(os.path.abspath(__file__))

PER_CALL = {
    "openai-chat": ["user", "safety_identifier", "metadata", "store", "stream", "stream_options",
                    "service_tier", "prompt_cache_key", "prompt_cache_retention"],
    "openai-responses": ["user", "safety_identifier", "metadata", "store", "stream",
                         "stream_options", "service_tier", "prompt_cache_key",
                         "prompt_cache_retention"],
    "anthropic": ["metadata", "stream", "service_tier"],
    "gemini": ["labels"],
    "generic": ["stream", "stream_options"],
}


# ---------- independent JCS ----------
def es6(f):
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


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v) if abs(v) <= 2**53 else es6(float(v))
    if isinstance(v, float):
        return es6(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(x) for k, x in items) + "}"
    raise TypeError(v)


RFC_B = [("0000000000000001", "5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
         ("4430000000000000", "295147905179352830000"), ("44b52d02c7e14af6", "1e+23"),
         ("444b1ae4d6e2ef50", "1e+21"), ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
         ("3eb0c6f7a0b5ed8d", "0.000001"), ("41b3de4355555557", "333333333.33333343"),
         ("becbf647612f3696", "-0.0000033333333333333333"),
         ("43143ff3c1cb0959", "1424953923781206.2")]
for h, want in RFC_B:
    got = es6(struct.unpack(">d", bytes.fromhex(h))[0])
    assert got == want, (h, got, want)


def slug(model):
    keep = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/@+")
    return "".join(chr(b) if b in keep else "%%%02X" % b for b in model.encode())


def golden(name, dialect, request, args=(), model=None):
    """Key of `request` computed here; `model` when it is not in the body."""
    body = json.loads(request) if isinstance(request, str) else request
    m = model if model is not None else body["model"]
    if dialect == "gemini" and m.startswith("models/"):
        m = m[len("models/"):]
    kept = {k: v for k, v in body.items() if k != "model" and k not in PER_CALL[dialect]}
    material = jcs(["llm:v1", dialect, m, kept])
    key = "llm:v1:%s:%s" % (slug(m), hashlib.sha256(material.encode()).hexdigest())
    return {"name": name, "request": request, "args": list(args), "material": material,
            "key": key}


def with_(base, **changes):
    r = copy.deepcopy(base)
    for k, v in changes.items():
        if v is DROP:
            r.pop(k, None)
        else:
            r[k] = v
    return r


DROP = object()

ABOUT = ("Keying vectors. Each request is a JSON object (sent as its compact text) or a string "
         "(sent as is). args: option words after the request (b_args overrides them for b). "
         "same: a and b must share a key. different: they must not. golden: the exact key and "
         "key material, which must never change within key version v1. errors: the exact "
         "error line.")


def pair(name, a, b, args=(), b_args=None):
    return {"name": name, "a": a, "b": b, "args": list(args),
            **({"b_args": list(b_args)} if b_args is not None else {})}


def write(fname, doc):
    os.makedirs(OUT, exist_ok=True)
    # One entry per block, each field (a whole request included) on one line: easy to scan
    # and to diff.
    def entry(e):
        fields = ",\n     ".join("%s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False))
                                  for k, v in e.items())
        return "    {" + fields + "}"

    parts = []
    for k, v in doc.items():
        if isinstance(v, list):
            body = ",\n".join(entry(e) for e in v)
            parts.append("  %s: [\n%s\n  ]" % (json.dumps(k), body))
        else:
            parts.append("  %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == doc
    with open(os.path.join(OUT, fname), "w", encoding="utf-8") as f:
        f.write(text)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------- OpenAI Chat Completions ----------
chat = {
    "model": "gpt-4o-mini-2024-07-18",
    "temperature": 0,
    "max_tokens": 64,
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ],
}
chat_tools = with_(chat, tools=[{"type": "function", "function": {
    "name": "lookup", "description": "Look a city up",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}], tool_choice="auto")


def msg(base, i, **kw):
    r = copy.deepcopy(base)
    r["messages"][i].update(kw)
    return r


chat_raw = ('{"model":"gpt-4o-mini-2024-07-18","temperature":0,"max_tokens":64,"messages":'
            '[{"role":"system","content":"You are terse."},'
            '{"role":"user","content":"Capital of France?"}]}')
chat_raw_pretty = ('{\n  "messages" : [ { "content":"You are terse.", "role":"system" },\r\n'
                   '\t{"content" : "Capital of France?","role":"user"} ],\n'
                   '  "max_tokens": 6.4e1, "temperature": -0.0,\n'
                   '  "model": "gpt-4o-mini-2024-07-18"\n}\n')
chat_raw_escaped = ('{"model":"gpt-4o-mini-2024-07-18","temperature":0e0,"max_tokens":64.0,'
                    '"messages":[{"role":"system","content":"You are terse\\u002E"},'
                    '{"role":"\\u0075ser","content":"Capital of France\\u003f"}]}')

write("openai_chat.json", {
    "dialect": "openai-chat",
    "about": ABOUT,
    "same": [
        pair("keys reordered, whitespace, number spellings", chat_raw, chat_raw_pretty),
        pair("unicode escapes of plain characters", chat_raw, chat_raw_escaped),
        pair("temperature 0 vs 0.0", chat, with_(chat, temperature=0.0)),
        pair("max_tokens 64 vs 64.0", chat, '{"model":"gpt-4o-mini-2024-07-18","temperature":0,'
             '"max_tokens":64.0,"messages":[{"role":"system","content":"You are terse."},'
             '{"role":"user","content":"Capital of France?"}]}'),
        pair("per-call fields added", chat, with_(
            chat, user="user-1234", safety_identifier="h-99", metadata={"trace": "abc"},
            store=True, stream=True, stream_options={"include_usage": True},
            service_tier="flex", prompt_cache_key="k1", prompt_cache_retention="24h")),
        pair("per-call fields differ", with_(chat, user="alice", stream=False),
             with_(chat, user="bob", stream=True)),
        pair("explicit dialect equals detected", chat, chat, b_args=["DIALECT", "openai-chat"]),
        pair("MODEL argument equal to the body's", chat, chat,
             b_args=["MODEL", "gpt-4o-mini-2024-07-18"]),
        pair("SAMPLED does not change a deterministic request's key", chat, chat,
             b_args=["SAMPLED"]),
    ],
    "different": [
        pair("model", chat, with_(chat, model="gpt-4o-mini")),
        pair("model version", chat, with_(chat, model="gpt-4o-mini-2024-08-06")),
        pair("system prompt", chat, msg(chat, 0, content="You are verbose.")),
        pair("user content", chat, msg(chat, 1, content="Capital of Spain?")),
        pair("content trailing space", chat, msg(chat, 1, content="Capital of France? ")),
        pair("content NFC vs NFD", msg(chat, 1, content="Caf\u00e9?"),
             msg(chat, 1, content="Cafe\u0301?")),
        pair("role", chat, msg(chat, 0, role="developer")),
        pair("message order", with_(chat, messages=chat["messages"] + [
            {"role": "user", "content": "And Spain?"}]),
            with_(chat, messages=[chat["messages"][0], {"role": "user", "content": "And Spain?"},
                                  chat["messages"][1]])),
        pair("extra message", chat, with_(chat, messages=chat["messages"] + [
            {"role": "assistant", "content": "Paris."}])),
        pair("content string vs parts", chat, msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?"}])),
        pair("tools added", chat, chat_tools),
        pair("tool definition", chat_tools, with_(chat_tools, tools=[{
            "type": "function", "function": {"name": "lookup", "description": "Look a city up",
                                             "parameters": {"type": "object", "properties": {
                                                 "city": {"type": "string"}}}}}])),
        pair("tool_choice", chat_tools, with_(chat_tools, tool_choice="required")),
        pair("parallel_tool_calls", chat_tools, with_(chat_tools, parallel_tool_calls=False)),
        pair("response_format", chat, with_(chat, response_format={"type": "json_object"})),
        pair("max_tokens", chat, with_(chat, max_tokens=65)),
        pair("max_completion_tokens", chat, with_(chat, max_completion_tokens=64)),
        pair("top_p", chat, with_(chat, top_p=0.5)),
        pair("frequency_penalty", chat, with_(chat, frequency_penalty=0.1)),
        pair("presence_penalty", chat, with_(chat, presence_penalty=0.1)),
        pair("logit_bias", chat, with_(chat, logit_bias={"1234": -100})),
        pair("logprobs", chat, with_(chat, logprobs=True)),
        pair("seed", with_(chat, seed=1), with_(chat, seed=2)),
        pair("stop string", chat, with_(chat, stop="\n")),
        pair("stop list", with_(chat, stop=["a", "b"]), with_(chat, stop=["b", "a"])),
        pair("reasoning_effort", chat, with_(chat, reasoning_effort="low")),
        pair("unknown field kept", chat, with_(chat, x_custom=1)),
        pair("explicit default n 1 is not filled in (a split, never a merge)", chat,
             with_(chat, n=1)),
        pair("string vs number", with_(chat, max_tokens=64), with_(chat, max_tokens="64")),
        pair("dialect", chat, chat, b_args=["DIALECT", "generic"]),
        pair("temperature with SAMPLED", with_(chat, temperature=0.7),
             with_(chat, temperature=0.8), args=["SAMPLED"]),
        pair("n with SAMPLED", with_(chat, n=2), with_(chat, n=3), args=["SAMPLED"]),
    ],
    "golden": [
        golden("basic", "openai-chat", chat),
        golden("raw text with number spellings and escapes", "openai-chat",
               '{ "model" : "gpt-4o-mini-2024-07-18", "temperature": -0.0, "top_p": 1E0,\n'
               '  "max_tokens": 1.28e2, "messages": [ {"role": "user",\r\n'
               '  "content": "Caf\\u00e9\\n\\t\\"ok\\"\\u0001 \\ud83d\\ude00"} ] }'),
        golden("with tools", "openai-chat", chat_tools),
        golden("per-call fields", "openai-chat",
               with_(chat, user="u", stream=True, metadata={"a": "b"})),
        golden("sampled", "openai-chat", with_(chat, temperature=0.7, n=2), args=["SAMPLED"]),
        golden("fine-tuned model name", "openai-chat",
               with_(chat, model="ft:gpt-4o-mini-2024-07-18:acme::9xYz"),),
    ],
    "errors": [
        {"name": "temperature 0.7", "request": with_(chat, temperature=0.70),
         "error": "NOTCACHEABLE temperature 0.7 samples; pass SAMPLED to cache it anyway"},
        {"name": "temperature missing", "request": with_(chat, temperature=DROP),
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "n 2", "request": with_(chat, n=2),
         "error": "NOTCACHEABLE n 2 asks for several answers; pass SAMPLED to cache it anyway"},
        {"name": "no model", "request": with_(chat, model=DROP),
         "error": "ERR request has no model; pass MODEL name"},
        {"name": "MODEL disagrees", "request": chat, "args": ["MODEL", "gpt-4o"],
         "error": "ERR MODEL \"gpt-4o\" does not match the request's model "
                  "\"gpt-4o-mini-2024-07-18\""},
        {"name": "not an object", "request": "[1,2]",
         "error": "ERR request must be a JSON object"},
        {"name": "not JSON", "request": "{\"model\":",
         "error": "ERR request is not valid JSON: EOF while parsing a value at line 1 column 9"},
        {"name": "unknown dialect", "request": chat, "args": ["DIALECT", "cohere"],
         "error": "ERR unknown dialect \"cohere\"; expected openai-chat, openai-responses, "
                  "anthropic, gemini or generic"},
    ],
})

# ---------- OpenAI Responses ----------
resp = {
    "model": "gpt-4.1-mini",
    "instructions": "You are terse.",
    "input": [{"role": "user", "content": "Capital of France?"}],
    "temperature": 0,
    "max_output_tokens": 64,
}
write("openai_responses.json", {
    "dialect": "openai-responses",
    "about": ABOUT,
    "same": [
        pair("keys reordered", resp, dict(reversed(list(resp.items())))),
        pair("whitespace", compact(resp), json.dumps(resp, indent=4)),
        pair("per-call fields", resp, with_(
            resp, user="u", safety_identifier="s", metadata={"k": "v"}, store=False,
            stream=True, service_tier="priority", prompt_cache_key="p")),
        pair("explicit dialect", resp, resp, b_args=["dialect", "OPENAI-RESPONSES"]),
    ],
    "different": [
        pair("model", resp, with_(resp, model="gpt-4.1")),
        pair("instructions", resp, with_(resp, instructions="You are verbose.")),
        pair("instructions absent", resp, with_(resp, instructions=DROP)),
        pair("input content", resp, with_(resp, input=[{"role": "user",
                                                        "content": "Capital of Italy?"}])),
        pair("input string vs list", with_(resp, input="Capital of France?"), resp),
        pair("input role", resp, with_(resp, input=[{"role": "developer",
                                                     "content": "Capital of France?"}])),
        pair("tools", resp, with_(resp, tools=[{"type": "web_search"}])),
        pair("tool_choice", with_(resp, tools=[{"type": "web_search"}]),
             with_(resp, tools=[{"type": "web_search"}], tool_choice="required")),
        pair("text format", resp, with_(resp, text={"format": {"type": "json_object"}})),
        pair("top_p", resp, with_(resp, top_p=0.1)),
        pair("max_output_tokens", resp, with_(resp, max_output_tokens=65)),
        pair("reasoning", resp, with_(resp, reasoning={"effort": "high"})),
        pair("previous_response_id", resp, with_(resp, previous_response_id="resp_1")),
        pair("background kept", resp, with_(resp, background=True)),
        pair("include kept", resp, with_(resp, include=["message.output_text.logprobs"])),
        pair("dialect", resp, resp, b_args=["DIALECT", "generic"]),
    ],
    "golden": [
        golden("basic", "openai-responses", resp),
        golden("string input", "openai-responses", with_(resp, input="Capital of France?")),
    ],
    "errors": [
        {"name": "temperature missing", "request": with_(resp, temperature=DROP),
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "temperature 1", "request": with_(resp, temperature=1),
         "error": "NOTCACHEABLE temperature 1 samples; pass SAMPLED to cache it anyway"},
    ],
})

# ---------- Anthropic Messages ----------
anth = {
    "model": "claude-3-5-sonnet-20241022",
    "max_tokens": 256,
    "system": "You are terse.",
    "temperature": 0,
    "messages": [{"role": "user", "content": "Capital of France?"}],
}
anth_tools = with_(anth, tools=[{"name": "lookup", "description": "Look a city up",
                                 "input_schema": {"type": "object", "properties": {
                                     "city": {"type": "string"}}}}],
                   tool_choice={"type": "auto"})
write("anthropic.json", {
    "dialect": "anthropic",
    "about": ABOUT,
    "same": [
        pair("keys reordered", anth, dict(sorted(anth.items(), reverse=True))),
        pair("whitespace", compact(anth), json.dumps(anth, indent="\t")),
        pair("temperature spellings", anth, compact(anth).replace('"temperature":0',
                                                                  '"temperature":0.000e+3')),
        pair("per-call fields", anth, with_(anth, metadata={"user_id": "u-1"}, stream=True,
                                            service_tier="standard_only")),
        pair("explicit dialect", anth, anth, b_args=["DIALECT", "anthropic"]),
        pair("minimal request with explicit dialect",
             with_(anth, system=DROP), with_(anth, system=DROP),
             args=["DIALECT", "anthropic"]),
    ],
    "different": [
        pair("model", anth, with_(anth, model="claude-3-5-haiku-20241022")),
        pair("system", anth, with_(anth, system="You are verbose.")),
        pair("system string vs blocks", anth, with_(anth, system=[
            {"type": "text", "text": "You are terse."}])),
        pair("message content", anth, with_(anth, messages=[
            {"role": "user", "content": "Capital of Peru?"}])),
        pair("message role", with_(anth, messages=[
            {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]),
            with_(anth, messages=[{"role": "assistant", "content": "a"},
                                  {"role": "user", "content": "b"}])),
        pair("message order", with_(anth, messages=[
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),
            with_(anth, messages=[{"role": "user", "content": "b"},
                                  {"role": "user", "content": "a"}])),
        pair("tools", anth, anth_tools),
        pair("tool schema", anth_tools, with_(anth_tools, tools=[{
            "name": "lookup", "description": "Look a town up",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}])),
        pair("tool_choice", anth_tools, with_(anth_tools, tool_choice={"type": "any"})),
        pair("max_tokens", anth, with_(anth, max_tokens=257)),
        pair("top_p", anth, with_(anth, top_p=0.9)),
        pair("top_k", anth, with_(anth, top_k=5)),
        pair("stop_sequences", anth, with_(anth, stop_sequences=["END"])),
        pair("thinking with SAMPLED", with_(anth, temperature=1),
             with_(anth, temperature=1, thinking={"type": "enabled", "budget_tokens": 1024}),
             args=["SAMPLED"]),
        pair("dialect", anth, anth, b_args=["DIALECT", "openai-chat"]),
    ],
    "golden": [
        golden("basic", "anthropic", anth),
        golden("with tools", "anthropic", anth_tools),
        golden("minimal, explicit dialect", "anthropic", with_(anth, system=DROP),
               args=["DIALECT", "anthropic"]),
        golden("Bedrock model id", "anthropic",
               with_(anth, model="anthropic.claude-3-5-sonnet-20241022-v2:0",
                     anthropic_version="bedrock-2023-05-31")),
    ],
    "errors": [
        {"name": "temperature missing", "request": with_(anth, temperature=DROP),
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "temperature 0.3", "request": with_(anth, temperature=0.3),
         "error": "NOTCACHEABLE temperature 0.3 samples; pass SAMPLED to cache it anyway"},
    ],
})

# ---------- Gemini generateContent ----------
gem = {
    "systemInstruction": {"parts": [{"text": "You are terse."}]},
    "contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}],
    "generationConfig": {"temperature": 0, "maxOutputTokens": 64},
}
GM = ["MODEL", "gemini-2.0-flash"]


def gcfg(**kw):
    r = copy.deepcopy(gem)
    r["generationConfig"].update(kw)
    return r


write("gemini.json", {
    "dialect": "gemini",
    "about": ABOUT,
    "same": [
        pair("keys reordered", gem, {
            "generationConfig": {"maxOutputTokens": 64, "temperature": 0},
            "contents": gem["contents"], "systemInstruction": gem["systemInstruction"]},
            args=GM),
        pair("whitespace and number spelling", compact(gem),
             json.dumps(gem, indent=1).replace('"temperature": 0', '"temperature": 0.0'),
             args=GM),
        pair("labels are per-call", gem, with_(gem, labels={"team": "search"}), args=GM),
        pair("model in body vs MODEL", gem, with_(gem, model="models/gemini-2.0-flash"),
             args=GM, b_args=[]),
        pair("models/ prefix", gem, gem, args=GM, b_args=["MODEL", "models/gemini-2.0-flash"]),
        pair("explicit dialect", gem, gem, args=GM, b_args=GM + ["DIALECT", "gemini"]),
    ],
    "different": [
        pair("model", gem, gem, args=GM, b_args=["MODEL", "gemini-2.0-flash-001"]),
        pair("system instruction", gem, with_(gem, systemInstruction={
            "parts": [{"text": "You are verbose."}]}), args=GM),
        pair("content text", gem, with_(gem, contents=[
            {"role": "user", "parts": [{"text": "Capital of Chad?"}]}]), args=GM),
        pair("content role", with_(gem, contents=[
            {"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"text": "b"}]}]),
            with_(gem, contents=[{"role": "model", "parts": [{"text": "a"}]},
                                 {"role": "user", "parts": [{"text": "b"}]}]), args=GM),
        pair("parts order", with_(gem, contents=[
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]),
            with_(gem, contents=[{"role": "user", "parts": [{"text": "b"}, {"text": "a"}]}]),
            args=GM),
        pair("tools", gem, with_(gem, tools=[{"functionDeclarations": [
            {"name": "lookup", "parameters": {"type": "OBJECT"}}]}]), args=GM),
        pair("toolConfig", with_(gem, toolConfig={"functionCallingConfig": {"mode": "AUTO"}}),
             with_(gem, toolConfig={"functionCallingConfig": {"mode": "ANY"}}), args=GM),
        pair("responseMimeType", gem, gcfg(responseMimeType="application/json"), args=GM),
        pair("responseSchema", gcfg(responseSchema={"type": "STRING"}),
             gcfg(responseSchema={"type": "NUMBER"}), args=GM),
        pair("topP", gem, gcfg(topP=0.5), args=GM),
        pair("topK", gem, gcfg(topK=3), args=GM),
        pair("seed", gcfg(seed=1), gcfg(seed=2), args=GM),
        pair("stopSequences", gem, gcfg(stopSequences=["\n\n"]), args=GM),
        pair("maxOutputTokens", gem, gcfg(maxOutputTokens=65), args=GM),
        pair("safetySettings", gem, with_(gem, safetySettings=[
            {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]), args=GM),
        pair("explicit default candidateCount 1 is not filled in", gem,
             gcfg(candidateCount=1), args=GM),
        pair("cachedContent", gem, with_(gem, cachedContent="cachedContents/abc"), args=GM),
        pair("dialect", gem, gem, args=GM, b_args=GM + ["DIALECT", "generic", "SAMPLED"]),
    ],
    "golden": [
        golden("basic", "gemini", gem, args=GM, model="gemini-2.0-flash"),
        golden("model in body", "gemini", with_(gem, model="models/gemini-1.5-pro-002")),
        golden("Vertex AI model path", "gemini", gem,
               args=["MODEL", "projects/p1/locations/us-central1/publishers/google/models/"
                     "gemini-2.0-flash"],
               model="projects/p1/locations/us-central1/publishers/google/models/"
                     "gemini-2.0-flash"),
    ],
    "errors": [
        {"name": "no model", "request": gem,
         "error": "ERR request has no model (Gemini puts it in the URL); pass MODEL name"},
        {"name": "temperature at top level does not count", "args": GM,
         "request": {"contents": gem["contents"], "temperature": 0},
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "temperature 1", "request": gcfg(temperature=1.0), "args": GM,
         "error": "NOTCACHEABLE temperature 1 samples; pass SAMPLED to cache it anyway"},
        {"name": "candidateCount 2", "request": gcfg(candidateCount=2), "args": GM,
         "error": "NOTCACHEABLE candidateCount 2 asks for several answers; "
                  "pass SAMPLED to cache it anyway"},
    ],
})

# ---------- Generic ----------
gen = {"model": "llama3.1:8b", "prompt": "Capital of France?", "temperature": 0,
       "options": {"num_ctx": 4096}}
write("generic.json", {
    "dialect": "generic",
    "about": ABOUT,
    "same": [
        pair("keys reordered", gen, dict(reversed(list(gen.items())))),
        pair("nested keys reordered", with_(gen, options={"a": 1, "b": 2}),
             with_(gen, options={"b": 2, "a": 1})),
        pair("stream", gen, with_(gen, stream=False)),
        pair("unicode escapes", with_(gen, prompt="Caf\u00e9 \U0001F600?"),
             compact(with_(gen, prompt="X")).replace('"X"', '"Caf\\u00e9 \\ud83d\\ude00?"')),
    ],
    "different": [
        pair("model", gen, with_(gen, model="llama3.1:70b")),
        pair("prompt", gen, with_(gen, prompt="Capital of Spain?")),
        pair("options", gen, with_(gen, options={"num_ctx": 8192})),
        pair("user is kept in generic", gen, with_(gen, user="u")),
        pair("nested array order", with_(gen, options={"stop": ["a", "b"]}),
             with_(gen, options={"stop": ["b", "a"]})),
        pair("null vs absent", gen, with_(gen, system=None)),
    ],
    "golden": [
        golden("basic", "generic", gen),
        golden("model needing escapes", "generic",
               with_(gen, model="my model*[v2]?\\x"),),
        golden("non-ASCII and big numbers", "generic",
               with_(gen, prompt="\u00e9\u20ac\U0001F600\u2028\x7f\n", big=12345678901234567890,
                     small=1e-7, frac=0.1)),
    ],
    "errors": [
        {"name": "temperature string", "request": with_(gen, temperature="0"),
         "error": "NOTCACHEABLE temperature \"0\" is not a number; pass SAMPLED to cache it anyway"},
        {"name": "model not a string", "request": with_(gen, model=["a"]),
         "error": "ERR request model must be a string"},
        {"name": "empty model", "request": with_(gen, model=""),
         "error": "ERR model must not be empty"},
    ],
})
print("written to", OUT)
