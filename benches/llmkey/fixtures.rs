//! Request bodies shaped like real traffic, for the LLMKEY benchmark.
//!
//! Deterministic: the same arguments give the same bytes, so figures from two runs (or two
//! commits) measure the same input.

use serde_json::{json, Value};

/// A chat request of at least `target` bytes: a system prompt, a tool, and a conversation of
/// alternating turns with some non-ASCII text, escapes and numbers, as real requests have.
pub fn chat_request(target: usize) -> Vec<u8> {
    let mut messages = vec![json!({
        "role": "system",
        "content": "You are a careful assistant. Answer in at most three sentences.",
    })];
    let mut size = 0;
    let mut turn = 0;
    while size < target {
        let role = if turn % 2 == 0 { "user" } else { "assistant" };
        let content = format!(
            "Turn {turn}: the quick brown fox jumps over the lazy dog; \"quoted\", \
             tab\there, café, naïve, 東京, emoji 😀, number {}. \
             Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
            turn * 37
        );
        size += content.len() + 40;
        messages.push(json!({ "role": role, "content": content }));
        turn += 1;
    }
    let request = json!({
        "model": "gpt-4o-mini-2024-07-18",
        "messages": messages,
        "temperature": 0,
        "max_tokens": 512,
        "top_p": 1.0,
        "user": "user-42",
        "stream": true,
        "tools": [{"type": "function", "function": {
            "name": "lookup",
            "description": "Look a city up",
            "parameters": {"type": "object",
                           "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}],
    });
    serde_json::to_vec(&request).expect("a json! value serialises")
}

/// Short snippets of prose, code and non-ASCII text that agent turns are made of.
const SNIPPETS: &[&str] = &[
    "Let me look at the failing test first.",
    "The build fails in `src/lib.rs` line 42: expected `usize`, found `u32`.",
    "Résumé of the change: the parser now keeps the exact digits; naïve reads rounded them.",
    "Ich prüfe die Konfiguration und starte den Dienst neu.",
    "東京の天気を確認してから、予定を調整します。",
    "Готово: файл сохранён, тесты проходят.",
    "fn main() {\n    println!(\"hello\\tworld\");\n}\n",
    "OK 👍 — next step: run the migrations (3 pending).",
    "{\"status\":\"ok\",\"rows\":17,\"elapsed_ms\":12.5}",
    "diff --git a/x b/x\n@@ -1,3 +1,4 @@\n-old line\n+new line\n",
];

/// The OpenAI Chat request of an agent session of at least `target` bytes: a system prompt,
/// 20 tool definitions with JSON-schema parameters, then many short turns: a user message,
/// an assistant tool call (arguments as a JSON string), the tool's result, an assistant
/// remark; prose, code, non-ASCII text and escapes throughout.
///
/// `agent_transcript(196_000)` is the 196 KB agent transcript of the performance issue.
pub fn agent_transcript(target: usize) -> Vec<u8> {
    let tools: Vec<Value> = (0..20)
        .map(|t| {
            json!({"type": "function", "function": {
                "name": format!("tool_{t}"),
                "description": format!("Tool number {t}: {}", SNIPPETS[t % SNIPPETS.len()]),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "A file path"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "mode": {"type": "string", "enum": ["read", "write", "append"]},
                        "recursive": {"type": "boolean"},
                    },
                    "required": ["path"],
                    "additionalProperties": false,
                },
            }})
        })
        .collect();
    let mut messages = vec![json!({
        "role": "system",
        "content": "You are a coding agent. Use the tools; keep answers short. Never guess a path.",
    })];
    let mut size = 4_000;
    let mut turn = 0usize;
    while size < target {
        let s = |k: usize| SNIPPETS[(turn * 7 + k) % SNIPPETS.len()];
        let mode = ["read", "write", "append"][turn % 3];
        let arguments = json!({
            "path": format!("src/module_{}/file_{turn}.rs", turn % 13),
            "limit": 10 + turn % 90,
            "mode": mode,
            "recursive": turn.is_multiple_of(2),
        })
        .to_string();
        let call_id = format!("call_{turn:06}");
        let turn_messages = [
            json!({"role": "user", "content": format!("Step {turn}: {}", s(0))}),
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": call_id, "type": "function",
                "function": {"name": format!("tool_{}", turn % 20), "arguments": arguments},
            }]}),
            json!({"role": "tool", "tool_call_id": call_id,
                   "content": format!("{}\n{}\n{}", s(1), s(2), s(3))}),
            json!({"role": "assistant", "content": [{"type": "text", "text": s(4)}]}),
        ];
        for m in turn_messages {
            size += m.to_string().len() + 1;
            messages.push(m);
        }
        turn += 1;
    }
    let request = json!({
        "model": "gpt-4.1-2025-04-14",
        "messages": messages,
        "tools": tools,
        "tool_choice": "auto",
        "temperature": 0,
        "seed": 7,
        "max_completion_tokens": 4096,
        "parallel_tool_calls": true,
        "stream": true,
        "user": "agent-session-1",
    });
    serde_json::to_vec(&request).expect("a json! value serialises")
}

/// The Anthropic Messages form of an agent session of at least `target` bytes: a system
/// prompt as text blocks with a cache marker, tools with `input_schema`, `tool_use` and
/// `tool_result` blocks, thinking settings.
pub fn anthropic_transcript(target: usize) -> Vec<u8> {
    let tools: Vec<Value> = (0..20)
        .map(|t| {
            json!({"name": format!("tool_{t}"), "description": SNIPPETS[t % SNIPPETS.len()],
                   "input_schema": {"type": "object",
                                    "properties": {"path": {"type": "string"},
                                                   "limit": {"type": "integer"}},
                                    "required": ["path"]}})
        })
        .collect();
    let mut messages = Vec::new();
    let mut size = 3_000;
    let mut turn = 0usize;
    while size < target {
        let s = |k: usize| SNIPPETS[(turn * 3 + k) % SNIPPETS.len()];
        let id = format!("toolu_{turn:08}");
        let turn_messages = [
            json!({"role": "user", "content": [{"type": "text", "text": s(0)}]}),
            json!({"role": "assistant", "content": [
                {"type": "text", "text": s(1)},
                {"type": "tool_use", "id": id, "name": format!("tool_{}", turn % 20),
                 "input": {"path": format!("docs/{turn}.md"), "limit": turn % 50}},
            ]}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": id, "content": s(2)},
            ]}),
        ];
        for m in turn_messages {
            size += m.to_string().len() + 1;
            messages.push(m);
        }
        turn += 1;
    }
    let request = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are a coding agent.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": messages,
        "tools": tools,
        "temperature": 0,
        "metadata": {"user_id": "u-1"},
        "stream": true,
    });
    serde_json::to_vec(&request).expect("a json! value serialises")
}

/// The Gemini `generateContent` form of an agent session of at least `target` bytes (no
/// model in the body: key it with `MODEL`): `functionCall` / `functionResponse` parts,
/// snake_case and camelCase spellings mixed, as clients send them.
pub fn gemini_transcript(target: usize) -> Vec<u8> {
    let declarations: Vec<Value> = (0..20)
        .map(|t| {
            json!({"name": format!("tool_{t}"), "description": SNIPPETS[t % SNIPPETS.len()],
                   "parameters": {"type": "OBJECT",
                                  "properties": {"path": {"type": "STRING"}},
                                  "required": ["path"]}})
        })
        .collect();
    let mut contents = Vec::new();
    let mut size = 3_000;
    let mut turn = 0usize;
    while size < target {
        let s = |k: usize| SNIPPETS[(turn * 5 + k) % SNIPPETS.len()];
        let name = format!("tool_{}", turn % 20);
        let turn_contents = [
            json!({"role": "user", "parts": [{"text": s(0)}]}),
            json!({"role": "model", "parts": [
                {"functionCall": {"name": name, "args": {"path": format!("a/{turn}")}}},
            ]}),
            json!({"role": "user", "parts": [
                {"function_response": {"name": name, "response": {"output": s(1)}}},
            ]}),
        ];
        for c in turn_contents {
            size += c.to_string().len() + 1;
            contents.push(c);
        }
        turn += 1;
    }
    let request = json!({
        "contents": contents,
        "systemInstruction": {"parts": [{"text": "You are a coding agent."}]},
        "tools": [{"functionDeclarations": declarations}],
        "generation_config": {"temperature": 0, "max_output_tokens": 2048},
        "labels": {"team": "a"},
    });
    serde_json::to_vec(&request).expect("a json! value serialises")
}
