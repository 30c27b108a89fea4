//! Parser tests: the queries clients send, and errors that point at the offset.

use super::*;

fn params() -> HashMap<String, Bytes> {
    [
        ("vector", "abcd"),
        ("distance_threshold", "0.2"),
        ("K", "3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Bytes::from(v)))
    .collect()
}

#[test]
fn parses_the_redisvl_range_query_with_filters() {
    let q = parse(
        br"@prompt_vector:[VECTOR_RANGE $distance_threshold $vector]=>{$YIELD_DISTANCE_AS: vector_distance} (@model:{gpt\-4o | x\ y} @n:[(1 +inf])",
        &params(),
    )
    .unwrap();
    let Node::And(parts) = &q.filter else {
        panic!("{q:?}")
    };
    assert_eq!(
        parts[0],
        Node::Range {
            field: "prompt_vector".into(),
            radius: 0.2,
            vector: Bytes::from("abcd"),
            yield_as: Some("vector_distance".into())
        }
    );
    let Node::And(f) = &parts[1] else { panic!() };
    assert_eq!(
        f[0],
        Node::Tag {
            field: "model".into(),
            values: vec!["gpt-4o".into(), "x y".into()]
        }
    );
    assert_eq!(
        f[1],
        Node::Numeric {
            field: "n".into(),
            min: Bound {
                value: 1.0,
                inclusive: false
            },
            max: Bound {
                value: f64::INFINITY,
                inclusive: true
            }
        }
    );
    assert!(q.range().is_some());
}

#[test]
fn keywords_are_case_insensitive_and_knn_takes_a_prefilter() {
    let q = parse(
        b"@v:[vector_range $distance_threshold $vector]=>{$yield_distance_as: distance}",
        &params(),
    )
    .unwrap();
    assert!(matches!(q.filter, Node::Range { yield_as: Some(ref d), .. } if d == "distance"));
    let q = parse(b"(@t:{a})=>[knn $K @v $vector AS dist]", &params()).unwrap();
    let knn = q.knn.unwrap();
    assert_eq!((knn.k, knn.yield_as.as_str()), (3, "dist"));
    assert_eq!(
        q.filter,
        Node::Tag {
            field: "t".into(),
            values: vec!["a".into()]
        }
    );
    let q = parse(b"*=>[KNN 10 @v $vector]", &params()).unwrap();
    assert_eq!(q.knn.unwrap().yield_as, "__v_score");
}

#[test]
fn text_terms_and_negation() {
    let q = parse(b"@prompt:(Hello world) -@m:{x} | foo", &params()).unwrap();
    let Node::Or(alts) = q.filter else { panic!() };
    assert_eq!(alts.len(), 2);
    assert_eq!(
        alts[1],
        Node::Term {
            field: None,
            token: "foo".into()
        }
    );
}

#[test]
fn errors_point_at_the_offset() {
    assert_eq!(
        parse(b"@a:{x", &params()).unwrap_err(),
        "Syntax error at offset 5 near end of query"
    );
    assert_eq!(
        parse(b"@a:[1 2] )", &params()).unwrap_err(),
        "Syntax error at offset 9 near )"
    );
    assert_eq!(
        parse(b"*=>[KNN 3 @v $nope]", &params()).unwrap_err(),
        "No such parameter `nope`"
    );
    assert!(parse(b"@a:[x 2]", &params())
        .unwrap_err()
        .contains("offset 4"));
    assert!(parse(b"@v:[VECTOR_RANGE -1 $vector]", &params())
        .unwrap_err()
        .contains("radius"));
    assert!(parse(b"@a:{x} | @v:[VECTOR_RANGE 1 $vector]", &params()).is_err());
}
