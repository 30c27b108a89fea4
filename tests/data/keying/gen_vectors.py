#!/usr/bin/env python3
"""Writes the keying vectors (*.json beside this file), read by tests/keying_vectors.rs.

Golden keys, key material and the refusals of the parser and the merged forms are computed by
keyrules.py, an independent Python restatement of the key rules, so the Rust test cross-checks
two implementations. Every "same" and "different" pair is also checked here against keyrules.py.

Stability: a golden entry may change only when the rules change for the requests it holds (the
second pass changed those with integers beyond 2^53 and merged forms; v1_examples.json records
every example request's key from before that pass). Run this to add vectors, and check with
`git diff` that no other key moved.

Usage: python3 tests/data/keying/gen_vectors.py
"""
import copy
import json
import os

from keyrules import KeyError_, material_and_key

OUT = os.path.dirname(os.path.abspath(__file__))


def text_of(request):
    return request if isinstance(request, str) else compact(request)


def dialect_of(file_dialect, args):
    for i, w in enumerate(args):
        if w.upper() == "DIALECT" and i + 1 < len(args):
            return args[i + 1].lower()
    return file_dialect


def golden(name, dialect, request, args=()):
    """The key of `request` as keyrules.py computes it."""
    material, key = material_and_key(dialect, text_of(request), args)
    return {"name": name, "request": request, "args": list(args), "material": material,
            "key": key}


def refused(name, dialect, request, args=()):
    """An error entry whose line keyrules.py computes (parser and merged-form refusals)."""
    try:
        material_and_key(dialect, text_of(request), args)
    except KeyError_ as e:
        entry = {"name": name, "request": request, "error": str(e)}
        if args:
            entry["args"] = list(args)
        return entry
    raise AssertionError("%s: keyrules.py gives it a key" % name)


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
         "key material (see gen_vectors.py on when one may change). errors: the exact error "
         "line.")


def pair(name, a, b, args=(), b_args=None):
    return {"name": name, "a": a, "b": b, "args": list(args),
            **({"b_args": list(b_args)} if b_args is not None else {})}


def check_pairs(doc):
    """Every pair must mean the same thing to keyrules.py as to its section."""
    for section, want_same in (("same", True), ("different", False)):
        for case in doc[section]:
            args = case["args"]
            b_args = case.get("b_args", args)
            a = material_and_key(dialect_of(doc["dialect"], args), text_of(case["a"]), args)
            b = material_and_key(dialect_of(doc["dialect"], b_args), text_of(case["b"]), b_args)
            assert (a[1] == b[1]) == want_same, (doc["dialect"], section, case["name"], a, b)


def write(fname, doc):
    check_pairs(doc)
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


def chat_num(literal):
    """The chat request with a seed spelled exactly as `literal` (sent as raw text)."""
    return compact(chat)[:-1] + ',"seed":%s}' % literal


def chat_enum(literal):
    """The chat request with a strict json_schema whose enum holds `literal`."""
    return compact(chat)[:-1] + (',"response_format":{"type":"json_schema","json_schema":'
                                 '{"name":"pick","strict":true,"schema":{"type":"integer",'
                                 '"enum":[1,%s]}}}}' % literal)


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
        pair("LIVE does not change a request's key", chat, chat, b_args=["LIVE"]),
        pair("content string vs one text part", chat, msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?"}])),
        pair("system content string vs one text part", chat, msg(chat, 0, content=[
            {"type": "text", "text": "You are terse."}])),
        pair("prompt_cache_breakpoint on a part", msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?"}]), msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?",
             "prompt_cache_breakpoint": {"mode": "explicit"}}])),
        pair("prompt_cache_options is per-call", chat,
             with_(chat, prompt_cache_options={"mode": "explicit", "ttl": "30m"})),
        pair("documented defaults written out", chat, with_(
            chat, n=1, top_p=1.0, presence_penalty=0, frequency_penalty=0.0, logprobs=False,
            response_format={"type": "text"})),
        pair("tool_choice auto and parallel_tool_calls true with tools",
             with_(chat_tools, tool_choice=DROP),
             with_(chat_tools, tool_choice="auto", parallel_tool_calls=True)),
        pair("image detail auto", msg(chat, 1, content=[
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]),
            msg(chat, 1, content=[{"type": "image_url", "image_url": {
                "url": "https://example.com/a.png", "detail": "auto"}}])),
        pair("integer beyond 2^53 in any exact spelling",
             chat_num("9007199254740994"), chat_num("9007199254740994.0")),
        pair("2^60 as an integer and as an exact double",
             chat_num("1152921504606846976"), chat_num("1.152921504606846976e18")),
        pair("FORMAT keyword and option case", chat, chat, args=["FORMAT", "sse"],
             b_args=["format", "sse"]),
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
        pair("content string vs two text parts", chat, msg(chat, 1, content=[
            {"type": "text", "text": "Capital of "}, {"type": "text", "text": "France?"}])),
        pair("text part with another member", msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?"}]), msg(chat, 1, content=[
            {"type": "text", "text": "Capital of France?", "x_note": 1}])),
        pair("image detail high vs auto", msg(chat, 1, content=[{"type": "image_url",
             "image_url": {"url": "https://example.com/a.png", "detail": "high"}}]),
             msg(chat, 1, content=[{"type": "image_url", "image_url": {
                 "url": "https://example.com/a.png", "detail": "auto"}}])),
        pair("tool_choice auto without tools is not a default", chat,
             with_(chat, tool_choice="auto")),
        pair("the deprecated function role has no text parts",
             with_(chat, messages=[{"role": "function", "name": "f", "content": "r"}]),
             with_(chat, messages=[{"role": "function", "name": "f",
                                    "content": [{"type": "text", "text": "r"}]}])),
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
        pair("null is not the default", chat, with_(chat, top_p=None)),
        pair("seed 2^53 + 1 vs 2^53 (one double apart)",
             chat_num("9007199254740993"), chat_num("9007199254740992")),
        pair("strict json_schema enums differing beyond 2^53",
             chat_enum("9007199254740993"), chat_enum("9007199254740992")),
        pair("2^60 vs the integer ECMAScript would print for it",
             chat_num("1152921504606846976.0"), chat_num("1152921504606847000")),
        pair("FORMAT sse vs no FORMAT", chat, chat, b_args=["FORMAT", "sse"]),
        pair("FORMAT sse vs FORMAT json", chat, chat, args=["FORMAT", "sse"],
             b_args=["FORMAT", "json"]),
        pair("web search options differ (with LIVE)", with_(chat, web_search_options={}),
             with_(chat, web_search_options={"search_context_size": "high"}), args=["LIVE"]),
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
        golden("merged forms written out", "openai-chat", with_(
            msg(chat_tools, 1, content=[{"type": "text", "text": "Capital of France?",
                                         "prompt_cache_breakpoint": {"mode": "explicit"}}]),
            n=1, top_p=1, parallel_tool_calls=True, response_format={"type": "text"})),
        golden("integer beyond 2^53 kept exact", "openai-chat", chat_num("9007199254740993")),
        golden("FORMAT sse", "openai-chat", chat, args=["FORMAT", "sse"]),
        golden("web search with LIVE", "openai-chat", with_(chat, web_search_options={}),
               args=["LIVE"]),
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
        refused("duplicate member name", "openai-chat",
                compact(chat)[:-1] + ',"temperature":1}'),
        refused("duplicate member name in a message", "openai-chat",
                compact(chat).replace('"role":"user"', '"role":"user","role":"system"')),
        refused("integer beyond 2^53 written with a fraction", "openai-chat",
                chat_num("9007199254740993.0")),
        refused("number beyond 2^53 with an exponent", "openai-chat", chat_num("1e30")),
        refused("number out of the range of a double", "openai-chat", chat_num("1e400")),
        {"name": "web_search_options", "request": with_(chat, web_search_options={}),
         "error": "NOTCACHEABLE web_search_options searches the web (live data); "
                  "pass LIVE to cache it anyway"},
        {"name": "search model", "request": with_(chat, model="gpt-4o-search-preview"),
         "error": "NOTCACHEABLE model \"gpt-4o-search-preview\" searches the web on every "
                  "call; pass LIVE to cache it anyway"},
        {"name": "SAMPLED is not LIVE", "request": with_(chat, web_search_options={}),
         "args": ["SAMPLED"],
         "error": "NOTCACHEABLE web_search_options searches the web (live data); "
                  "pass LIVE to cache it anyway"},
        {"name": "invalid FORMAT name", "request": chat, "args": ["FORMAT", "s s"],
         "error": "ERR invalid FORMAT name \"s s\": use 1 to 64 of A-Z a-z 0-9 . _ - + /"},
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
fn_tool = {"type": "function", "name": "lookup", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}
LIVE_TOOL_ERRORS = [
    ("web_search", {"type": "web_search"}, "searches the web (live data)"),
    ("web_search_preview", {"type": "web_search_preview", "search_context_size": "low"},
     "searches the web (live data)"),
    ("file_search", {"type": "file_search", "vector_store_ids": ["vs_1"]},
     "reads a provider-side store that can change"),
    ("mcp", {"type": "mcp", "server_label": "docs", "server_url": "https://example.com/mcp"},
     "calls tools on remote servers"),
    ("code_interpreter", {"type": "code_interpreter", "container": "cntr_1"},
     "runs code over provider-side files or state"),
]
write("openai_responses.json", {
    "dialect": "openai-responses",
    "about": ABOUT,
    "same": [
        pair("keys reordered", resp, dict(reversed(list(resp.items())))),
        pair("whitespace", compact(resp), json.dumps(resp, indent=4)),
        pair("per-call fields", resp, with_(
            resp, user="u", safety_identifier="s", metadata={"k": "v"}, store=False,
            stream=True, service_tier="priority", prompt_cache_key="p",
            prompt_cache_options={"ttl": "30m"})),
        pair("explicit dialect", resp, resp, b_args=["dialect", "OPENAI-RESPONSES"]),
        pair("input string vs one user message", with_(resp, input="Capital of France?"), resp),
        pair("input string vs one user message with an input_text part",
             with_(resp, input="Capital of France?"),
             with_(resp, input=[{"type": "message", "role": "user", "content": [
                 {"type": "input_text", "text": "Capital of France?"}]}])),
        pair("type message is implied", resp,
             with_(resp, input=[{"type": "message", "role": "user",
                                 "content": "Capital of France?"}])),
        pair("developer content string vs one input_text part",
             with_(resp, input=[{"role": "developer", "content": "Be brief."},
                                {"role": "user", "content": "Hi"}]),
             with_(resp, input=[{"role": "developer", "content": [
                 {"type": "input_text", "text": "Be brief."}]},
                 {"role": "user", "content": "Hi"}])),
        pair("documented defaults written out", resp, with_(
            resp, top_p=1, truncation="disabled", background=False,
            text={"format": {"type": "text"}})),
        pair("parallel_tool_calls true", with_(resp, tools=[fn_tool]),
             with_(resp, tools=[fn_tool], parallel_tool_calls=True)),
        pair("include order", with_(resp, include=["reasoning.encrypted_content",
                                                   "message.output_text.logprobs"]),
             with_(resp, include=["message.output_text.logprobs",
                                  "reasoning.encrypted_content"])),
        pair("input_image detail auto and prompt_cache_breakpoint",
             with_(resp, input=[{"role": "user", "content": [
                 {"type": "input_text", "text": "What is this?"},
                 {"type": "input_image", "image_url": "https://example.com/a.png"}]}]),
             with_(resp, input=[{"role": "user", "content": [
                 {"type": "input_text", "text": "What is this?",
                  "prompt_cache_breakpoint": {"mode": "explicit"}},
                 {"type": "input_image", "image_url": "https://example.com/a.png",
                  "detail": "auto"}]}])),
        pair("LIVE does not change a request's key", resp, resp, b_args=["LIVE"]),
    ],
    "different": [
        pair("model", resp, with_(resp, model="gpt-4.1")),
        pair("instructions", resp, with_(resp, instructions="You are verbose.")),
        pair("instructions absent", resp, with_(resp, instructions=DROP)),
        pair("input content", resp, with_(resp, input=[{"role": "user",
                                                        "content": "Capital of Italy?"}])),
        pair("input role", resp, with_(resp, input=[{"role": "developer",
                                                     "content": "Capital of France?"}])),
        pair("input string vs a developer message", with_(resp, input="Capital of France?"),
             with_(resp, input=[{"role": "developer", "content": "Capital of France?"}])),
        pair("an output item keeps its type",
             with_(resp, input=[{"type": "message", "id": "msg_1", "role": "assistant",
                                 "status": "completed", "content": "Paris"}]),
             with_(resp, input=[{"id": "msg_1", "role": "assistant", "status": "completed",
                                 "content": "Paris"}])),
        pair("input string vs two user messages", with_(resp, input="Capital of France?"),
             with_(resp, input=[{"role": "user", "content": "Capital of "},
                                {"role": "user", "content": "France?"}])),
        pair("tools", resp, with_(resp, tools=[fn_tool])),
        pair("tool_choice", with_(resp, tools=[fn_tool]),
             with_(resp, tools=[fn_tool], tool_choice="required")),
        pair("tool_choice auto is not documented as the default here",
             with_(resp, tools=[fn_tool]), with_(resp, tools=[fn_tool], tool_choice="auto")),
        pair("text format", resp, with_(resp, text={"format": {"type": "json_object"}})),
        pair("text verbosity", resp, with_(resp, text={"verbosity": "low"})),
        pair("top_p", resp, with_(resp, top_p=0.1)),
        pair("max_output_tokens", resp, with_(resp, max_output_tokens=65)),
        pair("reasoning", resp, with_(resp, reasoning={"effort": "high"})),
        pair("previous_response_id", resp, with_(resp, previous_response_id="resp_1")),
        pair("previous_response_id differs", with_(resp, previous_response_id="resp_1"),
             with_(resp, previous_response_id="resp_2")),
        pair("background kept", resp, with_(resp, background=True)),
        pair("truncation auto", resp, with_(resp, truncation="auto")),
        pair("include kept", resp, with_(resp, include=["message.output_text.logprobs"])),
        pair("prompt versions", with_(resp, prompt={"id": "pmpt_1", "version": "1"}),
             with_(resp, prompt={"id": "pmpt_1", "version": "2"})),
        pair("web search with LIVE is still its own request", resp,
             with_(resp, tools=[{"type": "web_search"}]), args=["LIVE"]),
        pair("conversation with LIVE", with_(resp, conversation="conv_1"),
             with_(resp, conversation="conv_2"), args=["LIVE"]),
        pair("dialect", resp, resp, b_args=["DIALECT", "generic"]),
    ],
    "golden": [
        golden("basic", "openai-responses", resp),
        golden("string input", "openai-responses", with_(resp, input="Capital of France?")),
        golden("previous_response_id is cacheable", "openai-responses",
               with_(resp, previous_response_id="resp_abc")),
        golden("merged forms written out", "openai-responses", with_(
            resp, input=[{"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Capital of France?"}]}],
            include=["b", "a"], truncation="disabled", text={"format": {"type": "text"}})),
        golden("web search with LIVE", "openai-responses",
               with_(resp, tools=[{"type": "web_search"}]), args=["LIVE"]),
        golden("pinned prompt version", "openai-responses",
               with_(resp, prompt={"id": "pmpt_1", "version": "3"})),
    ],
    "errors": [
        {"name": "temperature missing", "request": with_(resp, temperature=DROP),
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "temperature 1", "request": with_(resp, temperature=1),
         "error": "NOTCACHEABLE temperature 1 samples; pass SAMPLED to cache it anyway"},
    ] + [
        {"name": "tool " + name, "request": with_(resp, tools=[fn_tool, tool]),
         "error": "NOTCACHEABLE tool \"%s\" %s; pass LIVE to cache it anyway"
                  % (tool["type"], why)}
        for name, tool, why in LIVE_TOOL_ERRORS
    ] + [
        {"name": "code_interpreter over files",
         "request": with_(resp, tools=[{"type": "code_interpreter", "container": {
             "type": "auto", "file_ids": ["file_1"]}}]),
         "error": "NOTCACHEABLE tool \"code_interpreter\" runs code over provider-side files "
                  "or state; pass LIVE to cache it anyway"},
        {"name": "conversation", "request": with_(resp, conversation="conv_1"),
         "error": "NOTCACHEABLE conversation continues a provider-side conversation that grows "
                  "on every call; pass LIVE to cache it anyway"},
        {"name": "prompt without version", "request": with_(resp, prompt={"id": "pmpt_1"}),
         "error": "NOTCACHEABLE prompt \"pmpt_1\" names a stored prompt without a version (it "
                  "follows the latest); pass LIVE to cache it anyway"},
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
        pair("system string vs one text block", anth, with_(anth, system=[
            {"type": "text", "text": "You are terse."}])),
        pair("message content string vs one text block", anth, with_(anth, messages=[
            {"role": "user", "content": [{"type": "text", "text": "Capital of France?"}]}])),
        pair("cache_control markers everywhere", with_(anth_tools, messages=[
            {"role": "user", "content": [{"type": "text", "text": "Look it up."}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                                               "name": "lookup", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                          "content": [{"type": "text", "text": "Paris, FR"}]}]}]),
            with_(anth_tools, cache_control={"type": "ephemeral"}, system=[
                {"type": "text", "text": "You are terse.",
                 "cache_control": {"type": "ephemeral", "ttl": "1h"}}], tools=[
                {**anth_tools["tools"][0], "cache_control": {"type": "ephemeral"}}], messages=[
                {"role": "user", "content": [{"type": "text", "text": "Look it up.",
                                              "cache_control": {"type": "ephemeral"}}]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "lookup",
                     "input": {"city": "Paris"}, "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1",
                     "cache_control": {"type": "ephemeral"},
                     "content": [{"type": "text", "text": "Paris, FR",
                                  "cache_control": {"type": "ephemeral"}}]}]}])),
        pair("thinking disabled written out", anth, with_(anth, thinking={"type": "disabled"})),
        pair("tool_choice auto with tools written out", with_(anth_tools, tool_choice=DROP),
             with_(anth_tools, tool_choice={"type": "auto", "disable_parallel_tool_use": False})),
        pair("disable_parallel_tool_use false", with_(anth_tools, tool_choice={"type": "any"}),
             with_(anth_tools, tool_choice={"type": "any", "disable_parallel_tool_use": False})),
        pair("LIVE does not change a request's key", anth, anth, b_args=["LIVE"]),
    ],
    "different": [
        pair("model", anth, with_(anth, model="claude-3-5-haiku-20241022")),
        pair("system", anth, with_(anth, system="You are verbose.")),
        pair("system string vs two text blocks", anth, with_(anth, system=[
            {"type": "text", "text": "You are "}, {"type": "text", "text": "terse."}])),
        pair("text block with citations", with_(anth, system=[
            {"type": "text", "text": "You are terse."}]), with_(anth, system=[
            {"type": "text", "text": "You are terse.", "citations": []}])),
        pair("cache_control inside a tool's schema is user data", with_(anth_tools, tools=[
            {"name": "lookup", "input_schema": {"type": "object", "properties": {
                "cache_control": {"type": "string"}}}}]), with_(anth_tools, tools=[
            {"name": "lookup", "input_schema": {"type": "object", "properties": {}}}])),
        pair("tool_result content string vs one block", with_(anth, messages=[
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                          "content": "ok"}]}]), with_(anth, messages=[
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                          "content": [{"type": "text", "text": "ok"}]}]}])),
        pair("stop_sequences order is kept", with_(anth, stop_sequences=["a", "b"]),
             with_(anth, stop_sequences=["b", "a"])),
        pair("tool_choice auto without tools is not a default", anth,
             with_(anth, tool_choice={"type": "auto"})),
        pair("disable_parallel_tool_use true", anth_tools, with_(
            anth_tools, tool_choice={"type": "auto", "disable_parallel_tool_use": True})),
        pair("web search tool with LIVE", anth, with_(anth, tools=[
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]),
            args=["LIVE"]),
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
        golden("blocks and markers merged", "anthropic", with_(
            anth_tools, thinking={"type": "disabled"}, cache_control={"type": "ephemeral"},
            system=[{"type": "text", "text": "You are terse.",
                     "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "Hi",
                                                    "cache_control": {"type": "ephemeral"}}]}])),
        golden("web search with LIVE", "anthropic", with_(anth, tools=[
            {"type": "web_search_20250305", "name": "web_search"}]), args=["LIVE"]),
    ],
    "errors": [
        {"name": "temperature missing", "request": with_(anth, temperature=DROP),
         "error": "NOTCACHEABLE temperature not set (provider default samples); "
                  "pass SAMPLED to cache it anyway"},
        {"name": "temperature 0.3", "request": with_(anth, temperature=0.3),
         "error": "NOTCACHEABLE temperature 0.3 samples; pass SAMPLED to cache it anyway"},
        {"name": "web search tool", "request": with_(anth, tools=[
            {"type": "web_search_20250305", "name": "web_search"}]),
         "error": "NOTCACHEABLE tool \"web_search_20250305\" searches the web (live data); "
                  "pass LIVE to cache it anyway"},
        {"name": "web fetch tool", "request": with_(anth, tools=[
            {"type": "web_fetch_20250910", "name": "web_fetch"}]),
         "error": "NOTCACHEABLE tool \"web_fetch_20250910\" fetches web pages (live data); "
                  "pass LIVE to cache it anyway"},
        {"name": "MCP servers", "request": with_(anth, mcp_servers=[
            {"type": "url", "url": "https://example.com/mcp", "name": "docs"}]),
         "error": "NOTCACHEABLE mcp_servers calls tools on remote servers; "
                  "pass LIVE to cache it anyway"},
        {"name": "container reuse", "request": with_(anth, container="container_1"),
         "error": "NOTCACHEABLE container runs code over provider-side files or state; "
                  "pass LIVE to cache it anyway"},
        refused("duplicate member name in a block", "anthropic", compact(anth).replace(
            '"content":"Capital of France?"',
            '"content":[{"type":"text","text":"a","text":"b"}]')),
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
        pair("snake_case spellings", gem, {
            "system_instruction": gem["systemInstruction"], "contents": gem["contents"],
            "generation_config": {"temperature": 0, "max_output_tokens": 64}}, args=GM),
        pair("snake_case deep inside parts and tools", with_(gem, contents=[
            {"role": "user", "parts": [{"text": "What is this?"},
                                       {"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}],
            tools=[{"functionDeclarations": [{"name": "lookup", "parameters": {
                "type": "OBJECT", "properties": {"city_name": {"type": "STRING", "maxLength": 9}}}}]}],
            toolConfig={"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}}),
            with_(gem, contents=[
                {"role": "user", "parts": [{"text": "What is this?"},
                                           {"inline_data": {"mime_type": "image/png", "data": "AA=="}}]}],
                tools=[{"function_declarations": [{"name": "lookup", "parameters": {
                    "type": "OBJECT", "properties": {"city_name": {"type": "STRING", "max_length": 9}}}}]}],
                tool_config={"function_calling_config": {"mode": "ANY",
                                                         "allowed_function_names": ["lookup"]}}),
            args=GM),
        pair("both spellings with one value", gem, with_(gem, generation_config={
            "temperature": 0.0, "max_output_tokens": 64}), args=GM),
        pair("candidateCount 1 written out", gem, gcfg(candidateCount=1), args=GM),
        pair("responseMimeType text/plain written out", gem,
             gcfg(responseMimeType="text/plain"), args=GM),
        pair("stopSequences are a set", gcfg(stopSequences=["END", "STOP"]),
             gcfg(stopSequences=["STOP", "END"]), args=GM),
        pair("safetySettings are unique by category", with_(gem, safetySettings=[
            {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}]),
            with_(gem, safety_settings=[
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"},
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]), args=GM),
        pair("LIVE does not change a request's key", gem, gem, args=GM, b_args=GM + ["LIVE"]),
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
        pair("names inside function call args are user data", with_(gem, contents=[
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"max_tokens": 1}}}]}]),
            with_(gem, contents=[{"role": "model", "parts": [
                {"functionCall": {"name": "f", "args": {"maxTokens": 1}}}]}]), args=GM),
        pair("schema property names are user data", with_(gem, tools=[{"functionDeclarations": [
            {"name": "f", "parameters": {"type": "OBJECT", "properties": {
                "city_name": {"type": "STRING"}}}}]}]), with_(gem, tools=[{"functionDeclarations": [
                    {"name": "f", "parameters": {"type": "OBJECT", "properties": {
                        "cityName": {"type": "STRING"}}}}]}]), args=GM),
        pair("candidateCount 2 with SAMPLED", gem, gcfg(candidateCount=2),
             args=GM + ["SAMPLED"]),
        pair("safety threshold", with_(gem, safetySettings=[
            {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]),
            with_(gem, safetySettings=[
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]),
            args=GM),
        pair("Google Search grounding with LIVE", gem, with_(gem, tools=[{"googleSearch": {}}]),
             args=GM + ["LIVE"]),
        pair("cachedContent", gem, with_(gem, cachedContent="cachedContents/abc"), args=GM),
        pair("dialect", gem, gem, args=GM, b_args=GM + ["DIALECT", "generic", "SAMPLED"]),
    ],
    "golden": [
        golden("basic", "gemini", gem, args=GM),
        golden("model in body", "gemini", with_(gem, model="models/gemini-1.5-pro-002")),
        golden("Vertex AI model path", "gemini", gem,
               args=["MODEL", "projects/p1/locations/us-central1/publishers/google/models/"
                     "gemini-2.0-flash"]),
        golden("snake_case, defaults and sets merged", "gemini", {
            "system_instruction": {"parts": [{"text": "You are terse."}]},
            "contents": [{"role": "user", "parts": [{"text": "Capital of France?"},
                                                    {"file_data": {"mime_type": "application/pdf",
                                                                   "file_uri": "files/abc"}}]}],
            "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"},
                                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "OFF"}],
            "generation_config": {"temperature": 0, "candidate_count": 1,
                                  "stop_sequences": ["b", "a"],
                                  "response_mime_type": "text/plain"}}, args=GM),
        golden("URL context with LIVE", "gemini", with_(gem, tools=[{"url_context": {}}]),
               args=GM + ["LIVE"]),
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
        {"name": "candidate_count 2 in snake_case", "args": GM,
         "request": with_(gem, generationConfig=DROP, generation_config={
             "temperature": 0, "candidate_count": 2}),
         "error": "NOTCACHEABLE candidateCount 2 asks for several answers; "
                  "pass SAMPLED to cache it anyway"},
        refused("conflicting spellings", "gemini", with_(gem, generation_config={
            "temperature": 1}), args=GM),
        refused("conflicting spellings deep inside", "gemini", with_(gem, contents=[
            {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png",
                                                       "mime_type": "image/jpeg", "data": ""}}]}]),
            args=GM),
    ] + [
        {"name": "tool " + name, "request": with_(gem, tools=[{name: {}}]), "args": GM,
         "error": "NOTCACHEABLE tool \"%s\" %s; pass LIVE to cache it anyway" % (camel, why)}
        for name, camel, why in [
            ("googleSearch", "googleSearch", "searches the web (live data)"),
            ("google_search_retrieval", "googleSearchRetrieval", "searches the web (live data)"),
            ("urlContext", "urlContext", "fetches web pages (live data)"),
            ("googleMaps", "googleMaps", "reads live map data"),
            ("enterpriseWebSearch", "enterpriseWebSearch", "searches the web (live data)"),
            ("retrieval", "retrieval", "reads a provider-side store that can change"),
            ("file_search", "fileSearch", "reads a provider-side store that can change"),
        ]
    ],
})

# ---------- Generic ----------
gen = {"model": "llama3.1:8b", "prompt": "Capital of France?", "temperature": 0,
       "options": {"num_ctx": 4096}}
def gen_num(literal):
    """The generic request with `options.x` spelled exactly as `literal` (sent as raw text)."""
    return compact(gen).replace('"num_ctx":4096', '"num_ctx":4096,"x":%s' % literal)


write("generic.json", {
    "dialect": "generic",
    "about": ABOUT,
    "same": [
        pair("keys reordered", gen, dict(reversed(list(gen.items())))),
        pair("nested keys reordered", with_(gen, options={"a": 1, "b": 2}),
             with_(gen, options={"b": 2, "a": 1})),
        pair("stream", gen, with_(gen, stream=False)),
        pair("exact doubles beyond 2^53", gen_num("18446744073709551616"),
             gen_num("1.8446744073709551616e19")),
        pair("fractions below 2^53 read as doubles", gen_num("0.1"),
             gen_num("0.1000000000000000000001")),
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
        pair("generic has no merged forms", with_(gen, n=1), gen),
        pair("integers one apart beyond 2^64", gen_num("18446744073709551617"),
             gen_num("18446744073709551616")),
        pair("huge integer literals", gen_num("1" + "0" * 30), gen_num("1" + "0" * 29 + "1")),
    ],
    "golden": [
        golden("basic", "generic", gen),
        golden("model needing escapes", "generic",
               with_(gen, model="my model*[v2]?\\x"),),
        golden("non-ASCII and big numbers", "generic",
               with_(gen, prompt="\u00e9\u20ac\U0001F600\u2028\x7f\n", big=12345678901234567890,
                     small=1e-7, frac=0.1)),
        golden("exact integers beyond 2^53", "generic",
               compact(gen)[:-1] + ',"seeds":[9007199254740993,-18446744073709551617,'
               '1152921504606846976.0,1e20,1e21,-0,-0.0]}'),
    ],
    "errors": [
        {"name": "temperature string", "request": with_(gen, temperature="0"),
         "error": "NOTCACHEABLE temperature \"0\" is not a number; pass SAMPLED to cache it anyway"},
        {"name": "model not a string", "request": with_(gen, model=["a"]),
         "error": "ERR request model must be a string"},
        {"name": "empty model", "request": with_(gen, model=""),
         "error": "ERR model must not be empty"},
        refused("duplicate nested member name", "generic",
                compact(gen).replace('"num_ctx":4096', '"num_ctx":4096,"num_ctx":4096')),
        refused("inexact number beyond 2^53", "generic", gen_num("9007199254740993.5")),
        refused("inexact exponent beyond 2^53", "generic", gen_num("-2.9514790517935283e20")),
    ],
})
print("written to", OUT)
