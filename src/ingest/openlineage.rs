//! OpenLineage RunEvents, accepted as Marquez accepts them (`POST /api/v1/lineage`), validated
//! against the official JSON Schema (spec 2-0-2) with format checks on (`uuid`, `date-time`).
//! Spec: <https://openlineage.io/spec/2-0-2/OpenLineage.json>.

use std::sync::LazyLock;

use serde_json::Value;

use super::BadPayload;
use crate::domain::{DatasetRef, Lineage, RunEvent, parse_time, to_millis};

const SCHEMA: &str = include_str!("OpenLineage.json");

/// One validator per event kind: validating against the schema's top-level `oneOf` would only say
/// "not valid under any of the schemas"; against the kind's own definition, errors name the field.
static VALIDATORS: LazyLock<[(&str, jsonschema::Validator); 3]> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA).expect("bundled OpenLineage schema is JSON");
    ["RunEvent", "DatasetEvent", "JobEvent"].map(|kind| {
        let mut s = schema.clone();
        if let Some(o) = s.as_object_mut() {
            o.remove("oneOf");
            o.insert("$ref".into(), Value::String(format!("#/$defs/{kind}")));
        }
        let v = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&s)
            .expect("bundled OpenLineage schema compiles");
        (kind, v)
    })
});

fn clip(s: String) -> String {
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}

/// Validates against the schema (every violation named) and reads what ranking needs.
/// Integrations send a facet they have no value for as `null` (Spark's `"nominalTime": null`);
/// such a facet is absent, not invalid.
fn drop_null_facets(event: &mut Value) {
    fn clean(facets: Option<&mut Value>) {
        if let Some(Value::Object(m)) = facets {
            m.retain(|_, v| !v.is_null());
        }
    }
    clean(event.pointer_mut("/run/facets"));
    clean(event.pointer_mut("/job/facets"));
    clean(event.pointer_mut("/dataset/facets"));
    for side in ["inputs", "outputs"] {
        if let Some(Value::Array(ds)) = event.get_mut(side) {
            for d in ds {
                for key in ["facets", "inputFacets", "outputFacets"] {
                    clean(d.get_mut(key));
                }
            }
        }
    }
}

pub fn parse(body: &[u8]) -> Result<Lineage, BadPayload> {
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| BadPayload::new(format!("body is not JSON: {e}")))?;
    drop_null_facets(&mut value);
    // The kind by shape: a run makes a RunEvent, a dataset a DatasetEvent, else a JobEvent.
    let kind = if value.get("run").is_some() {
        "RunEvent"
    } else if value.get("dataset").is_some() {
        "DatasetEvent"
    } else {
        "JobEvent"
    };
    let validator = &VALIDATORS
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("three kinds")
        .1;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(10)
        .map(|e| {
            let at = e.instance_path().to_string();
            let hint = if at.contains("facets") {
                " (every facet needs `_producer` and `_schemaURL`)"
            } else {
                ""
            };
            let msg = clip(format!(
                "{}: {e}",
                if at.is_empty() {
                    "/".into()
                } else {
                    at.clone()
                }
            ));
            format!("{msg}{hint}")
        })
        .collect();
    if !errors.is_empty() {
        return Err(BadPayload::new(format!(
            "not a valid OpenLineage {kind} (spec 2-0-2): {}",
            errors.join("; ")
        )));
    }
    if value.get("run").is_none() {
        return Ok(Lineage::Other);
    }
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let run = &value["run"];
    let job = &value["job"];
    let event_time = parse_time(&s(&value, "eventTime"))
        .map_err(|e| BadPayload::new(format!("eventTime: {e}")))?;
    Ok(Lineage::Run(Box::new(RunEvent {
        run_id: s(run, "runId").to_lowercase(),
        event_type: value
            .get("eventType")
            .and_then(Value::as_str)
            .unwrap_or("OTHER")
            .to_string(),
        event_time: to_millis(event_time),
        job_namespace: s(job, "namespace"),
        job_name: s(job, "name"),
        inputs: datasets(value.get("inputs")),
        outputs: datasets(value.get("outputs")),
        run_facets: run
            .get("facets")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })))
}

/// Datasets with their version: the DatasetVersion facet, else a `name@version` suffix
/// (`fees_corpus@commit:abc123` is the dataset `fees_corpus` at version `commit:abc123`).
fn datasets(list: Option<&Value>) -> Vec<DatasetRef> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| {
                    let raw = d.get("name").and_then(Value::as_str).unwrap_or_default();
                    let (name, suffix) = match raw.split_once('@') {
                        Some((n, v)) if !n.is_empty() && !v.is_empty() => {
                            (n.to_string(), Some(v.to_string()))
                        }
                        _ => (raw.to_string(), None),
                    };
                    let facet = d
                        .pointer("/facets/version/datasetVersion")
                        .or_else(|| d.pointer("/inputFacets/version/datasetVersion"))
                        .or_else(|| d.pointer("/outputFacets/version/datasetVersion"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    DatasetRef {
                        namespace: d
                            .get("namespace")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        name,
                        version: facet.or(suffix),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Value {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/reference/openlineage/run_events.json"
        );
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn a_null_facet_is_read_as_absent() {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/cases/C11_openlineage_null_facet.json"
        );
        let case: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        for ev in case["events"].as_array().unwrap() {
            let body = serde_json::to_vec(ev).unwrap();
            assert!(parse(&body).is_ok(), "{:?}", parse(&body).err());
        }
    }

    #[test]
    fn the_reference_events_validate_and_the_invalid_ones_are_refused_with_reasons() {
        let r = reference();
        for (kind, ev) in r["valid"].as_object().unwrap() {
            let body = serde_json::to_vec(ev).unwrap();
            assert!(parse(&body).is_ok(), "{kind}: {:?}", parse(&body).err());
        }
        for (why, case) in r["invalid"].as_object().unwrap() {
            let body = serde_json::to_vec(&case["event"]).unwrap();
            let e = parse(&body).expect_err(why);
            assert!(
                e.message.starts_with("not a valid OpenLineage RunEvent"),
                "{why}: {}",
                e.message
            );
            assert!(e.message.len() < 600, "{why}: {}", e.message);
            // The reason names what is wrong.
            let field = match why.as_str() {
                "missing schemaURL" => "schemaURL",
                "bad eventType" => "eventType",
                "facet without _producer" => "_producer",
                "missing job.namespace" => "namespace",
                other => panic!("new invalid case {other}: give it an expected reason"),
            };
            assert!(e.message.contains(field), "{why}: {}", e.message);
        }
    }

    #[test]
    fn formats_are_checked_and_versions_read_from_facet_or_suffix() {
        let mut ev = reference()["valid"]["COMPLETE"].clone();
        ev["run"]["runId"] = "not-a-uuid".into();
        let e = parse(&serde_json::to_vec(&ev).unwrap()).unwrap_err();
        assert!(e.message.contains("/run/runId"), "{}", e.message);
        let mut ev = reference()["valid"]["COMPLETE"].clone();
        ev["inputs"] = serde_json::json!([
            {"namespace": "s3://prod", "name": "fees_corpus@commit:abc123", "facets": {}},
            {"namespace": "s3://prod", "name": "rates", "facets": {"version": {
                "_producer": "https://x", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
                "datasetVersion": "42"}}}
        ]);
        let Lineage::Run(run) = parse(&serde_json::to_vec(&ev).unwrap()).unwrap() else {
            panic!()
        };
        assert_eq!(run.inputs[0].name, "fees_corpus");
        assert_eq!(run.inputs[0].version.as_deref(), Some("commit:abc123"));
        assert_eq!(run.inputs[1].version.as_deref(), Some("42"));
    }
}
