use super::*;

fn same(a: &str, b: &str) -> Option<Mismatch> {
    Signature::of("", a).mismatch(&Signature::of("", b))
}

#[test]
fn paraphrases_pass() {
    for (a, b) in [
        ("What is RAG?", "Can you explain RAG in AI?"),
        (
            "How much is 5 miles in km?",
            "Convert 5 miles to kilometers",
        ),
        (
            "What is the capital of France?",
            "Tell me the capital city of france",
        ),
        ("Is 57 prime?", "is the number 57 a prime"),
        (
            "How do I reverse a list in Python?",
            "Reversing a list in python: how?",
        ),
        (
            "Which sweets have no gelatin?",
            "What sweets are gelatin-free?",
        ),
        (
            "Translate \"good morning\" to French",
            "How do you say \"good morning\" in French?",
        ),
        (
            "How do I merge two dictionaries in Python?",
            "How to merge 2 dictionaries in Python?",
        ),
    ] {
        assert_eq!(same(a, b), None, "{a} / {b}");
    }
}

#[test]
fn hard_negatives_are_told_apart_with_the_reason() {
    for (a, b, why) in [
        (
            "How much is 5 miles in km?",
            "How much is 5 km in miles?",
            Mismatch::Numbers,
        ),
        ("Is 57 prime?", "Is 59 prime?", Mismatch::Numbers),
        (
            "Which sweets contain gelatin?",
            "Which sweets do not contain gelatin?",
            Mismatch::Polarity,
        ),
        (
            "What is the capital of France?",
            "What is the capital of Germany?",
            Mismatch::Names,
        ),
        ("What is RAG?", "What is RLHF?", Mismatch::Names),
        (
            "How do I reverse a list in Python?",
            "How do I reverse a list in rust?",
            Mismatch::Languages,
        ),
        (
            "Translate \"good morning\" to French",
            "Translate \"good night\" to French",
            Mismatch::Quoted,
        ),
    ] {
        assert_eq!(same(a, b), Some(why), "{a} / {b}");
    }
    let pirate = Signature::of("Answer like a pirate.", "What is RAG?");
    assert_eq!(
        pirate.mismatch(&Signature::of("", "What is RAG?")),
        Some(Mismatch::System)
    );
}

#[test]
fn texts_come_from_each_dialect() {
    let openai = br#"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":[{"type":"text","text":"Is 57 prime?"}]}]}"#;
    assert_eq!(
        texts_of(openai),
        ("Be brief.\n".into(), "Is 57 prime?\n".into())
    );
    let anthropic = br#"{"model":"m","system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"Hi"}]}"#;
    assert_eq!(texts_of(anthropic), ("Be brief.\n".into(), "Hi\n".into()));
    let gemini = br#"{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]}}"#;
    assert_eq!(texts_of(gemini), ("Be brief.\n".into(), "Hi\n".into()));
    assert_eq!(texts_of(b"not json"), (String::new(), String::new()));
}
