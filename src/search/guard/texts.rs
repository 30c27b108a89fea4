//! Where the guards read a request: its system prompt and its last user message, in the
//! OpenAI (chat and responses), Anthropic and Gemini shapes.

/// The system prompt and the last user message of an LLM request body (OpenAI chat and
/// responses, Anthropic messages, Gemini contents); empty strings for what is not there.
pub fn texts_of(body: &[u8]) -> (String, String) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), String::new());
    };
    let mut system = String::new();
    let mut user = String::new();
    let add_text = |out: &mut String, c: &serde_json::Value| text_into(out, c);
    if let Some(s) = v.get("system") {
        add_text(&mut system, s);
    }
    if let Some(s) = v
        .get("systemInstruction")
        .or_else(|| v.get("system_instruction"))
    {
        add_text(&mut system, s);
    }
    if let Some(s) = v.get("instructions") {
        add_text(&mut system, s);
    }
    let turns = v
        .get("messages")
        .or_else(|| v.get("contents"))
        .or_else(|| v.get("input"))
        .and_then(|m| m.as_array());
    for m in turns.into_iter().flatten() {
        let role = m.get("role").and_then(|r| r.as_str()).unwrap_or("user");
        let content = m.get("content").or_else(|| m.get("parts"));
        match (role, content) {
            ("system" | "developer", Some(c)) => add_text(&mut system, c),
            ("user", Some(c)) => {
                user.clear();
                add_text(&mut user, c);
            }
            _ => {}
        }
    }
    if let Some(prompt) = v
        .get("prompt")
        .or_else(|| v.get("input"))
        .filter(|p| p.is_string())
    {
        add_text(&mut user, prompt);
    }
    (system, user)
}

fn text_into(out: &mut String, c: &serde_json::Value) {
    match c {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(parts) => parts.iter().for_each(|p| text_into(out, p)),
        serde_json::Value::Object(o) => {
            if let Some(t) = o.get("text") {
                text_into(out, t);
            } else if let Some(p) = o.get("parts") {
                text_into(out, p);
            }
        }
        _ => {}
    }
}
