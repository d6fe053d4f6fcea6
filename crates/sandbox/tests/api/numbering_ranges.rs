//! Numbering-range management on v1: the software's DIAN ranges, create (from a DIAN resolution
//! or without one), move the next number, delete; new ranges number documents.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{assert_envelope, bill, spawn, spawn_with, with_state_file};

#[tokio::test]
async fn the_software_dian_ranges_are_listed_with_string_limits_on_both_paths() {
    let t = spawn().await;
    let body = t.get_ok("/v1/numbering-ranges/dian").await;
    let ranges = body["data"].as_array().unwrap();
    assert_eq!(ranges.len(), 4);
    assert_eq!(
        ranges[0],
        json!({"resolution_number": "18760000001", "prefix": "SETP", "from": "990000000", "to": "995000000",
               "start_date": "2019-01-19", "end_date": "2030-01-19",
               "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"})
    );
    for range in ranges {
        for key in ["resolution_number", "prefix", "from", "to", "start_date", "end_date", "technical_key"] {
            assert!(range[key].is_string(), "{key} of {range}");
        }
    }
    let other = t.get_ok("/v1/dian/numbering-ranges").await;
    assert_eq!(other, body);
}

#[tokio::test]
async fn a_range_created_from_a_dian_resolution_numbers_invoices_from_its_current() {
    let t = spawn().await;
    let body = t
        .post_created(
            "/v1/numbering-ranges",
            &json!({"document": "21", "prefix": "FE", "current": 100, "resolution_number": "18764000001"}),
        )
        .await;
    assert_envelope(&body, "Created", "Rango de numeración creado con éxito");
    let range = &body["data"];
    assert_eq!(range["id"], 11);
    assert_eq!(range["document"], "21");
    assert_eq!(range["document_name"], "Factura de Venta");
    assert_eq!(range["prefix"], "FE");
    assert_eq!((range["from"].clone(), range["to"].clone()), (json!(1), json!(5000)));
    assert_eq!(range["current"], 100);
    assert_eq!(range["resolution_number"], "18764000001");
    assert_eq!(range["end_date"], "2036-01-01");
    assert_eq!(range["is_expired"], false);
    assert_eq!(range["is_active"], 1);
    assert_eq!(range["technical_key"].as_str().unwrap().len(), 40);

    assert_eq!(t.listed_total("/v1/numbering-ranges?filter[document]=21").await, 2);
    let shown = t.get_ok("/v1/numbering-ranges/11").await;
    assert_eq!(shown["data"], body["data"]);

    // Two invoice ranges now: a bill must name one; the new one numbers from 100.
    let (status, refused) = t.post("/v1/bills/validate", &bill("NR-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused["data"]["errors"]["numbering_range_id"].is_array());
    let mut body = bill("NR-1");
    body["numbering_range_id"] = json!(11);
    let created = t.create_bill_body(&body).await;
    assert_eq!(created["data"]["bill"]["number"], "FE100");
    assert_eq!(created["data"]["numbering_range"]["resolution_number"], "18764000001");
    let (_, shown) = t.get("/v1/numbering-ranges/11").await;
    assert_eq!(shown["data"]["current"], 101);
}

#[tokio::test]
async fn an_expired_resolution_gives_an_expired_range_and_a_note_range_needs_no_resolution() {
    let t = spawn().await;
    let body = t
        .post_created(
            "/v1/numbering-ranges",
            &json!({"document": 21, "prefix": "SETT", "current": "1", "resolution_number": "18760000003"}),
        )
        .await;
    assert_eq!(body["data"]["is_expired"], true);
    let (_, listed) = t.get("/v1/numbering-ranges?filter[id]=11").await;
    assert_eq!(listed["data"]["data"][0]["is_expired"], true);

    let (status, body) =
        t.post("/v1/numbering-ranges", &json!({"document": "22", "prefix": "NCB", "current": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["document_name"], "Nota Crédito");
    assert_eq!(body["data"]["resolution_number"], Value::Null);
    assert_eq!(body["data"]["from"], 1);
}

#[tokio::test]
async fn invalid_range_bodies_answer_422_with_each_field() {
    let t = spawn().await;
    let (status, body) = t.post("/v1/numbering-ranges", &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &body["data"]["errors"];
    assert_eq!(errors["document"], json!(["El campo documento es obligatorio."]));
    assert_eq!(errors["prefix"], json!(["El campo prefijo es obligatorio."]));
    assert!(errors["current"].is_array());

    for (request, field, message) in [
        (json!({"document": "99", "prefix": "X", "current": 1}), "document", "El campo documento es inválido."),
        (
            json!({"document": "21", "prefix": "FE", "current": 1}),
            "resolution_number",
            "El campo número de resolución es obligatorio.",
        ),
        (
            json!({"document": "21", "prefix": "FE", "current": 1, "resolution_number": "123"}),
            "resolution_number",
            "El campo número de resolución no corresponde a un rango autorizado por la DIAN.",
        ),
        (
            json!({"document": "21", "prefix": "ZZ", "current": 1, "resolution_number": "18764000001"}),
            "prefix",
            "El campo prefijo no corresponde a la resolución 18764000001.",
        ),
        (
            json!({"document": "21", "prefix": "FE", "current": 6000, "resolution_number": "18764000001"}),
            "current",
            "El campo consecutivo actual debe estar entre 1 y 5000.",
        ),
        (json!({"document": "22", "prefix": "NC", "current": 1}), "prefix", "El campo prefijo ya ha sido registrado."),
        (
            json!({"document": "22", "prefix": "TOOLONG", "current": 1}),
            "prefix",
            "El campo prefijo debe tener hasta 4 letras o números.",
        ),
    ] {
        let (status, body) = t.post("/v1/numbering-ranges", &request).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{request}");
        assert_eq!(body["data"]["errors"][field], json!([message]), "{request}: {body}");
    }
}

#[tokio::test]
async fn the_next_number_moves_forward_but_never_back_over_issued_numbers() {
    let t = spawn().await;
    t.create_bill("NR-2").await; // SETP990000001
    let (status, body) = t.patch("/v1/numbering-ranges/8/current", &json!({"current": 990000500})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["current"], 990000500);
    assert_eq!(t.create_bill("NR-3").await["data"]["bill"]["number"], "SETP990000500");

    // The path the later clients of the original service use.
    let (status, body) = t.put("/v1/numbering-ranges/8", &json!({"current": 990000600})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["current"], 990000600);

    let (status, body) = t.patch("/v1/numbering-ranges/8/current", &json!({"current": 990000500})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["data"]["errors"]["current"],
        json!(["El campo consecutivo actual debe ser mayor que 990000500, el último número emitido."])
    );
    let (status, body) = t.patch("/v1/numbering-ranges/8/current", &json!({"current": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["data"]["errors"]["current"],
        json!(["El campo consecutivo actual debe estar entre 990000000 y 995000000."])
    );
    let (status, body) = t.patch("/v1/numbering-ranges/8/current", &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["data"]["errors"]["current"].is_array());
    let (status, body) = t.patch("/v1/numbering-ranges/77/current", &json!({"current": 5})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "No se encontró el rango de numeración");
}

#[tokio::test]
async fn a_deleted_range_is_gone_but_its_documents_still_show_it() {
    let t = spawn().await;
    t.post(
        "/v1/numbering-ranges",
        &json!({"document": "21", "prefix": "FE", "current": 1, "resolution_number": "18764000001"}),
    )
    .await;
    let mut body = bill("NR-4");
    body["numbering_range_id"] = json!(11);
    t.create_bill_body(&body).await;

    let (status, deleted) = t.delete("/v1/numbering-ranges/11").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted, json!({"status": "OK", "message": "Rango de numeración eliminado con éxito"}));
    assert_eq!(t.get("/v1/numbering-ranges/11").await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.delete("/v1/numbering-ranges/11").await.0, StatusCode::NOT_FOUND);
    let (_, listed) = t.get("/v1/numbering-ranges").await;
    assert!(listed["data"]["data"].as_array().unwrap().iter().all(|r| r["id"] != 11));

    let (_, shown) = t.get("/v1/bills/show/FE1").await;
    assert_eq!(shown["data"]["numbering_range"]["prefix"], "FE");
    body["reference_code"] = json!("NR-5");
    let (status, refused) = t.post("/v1/bills/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["data"]["errors"]["numbering_range_id"],
        json!(["El campo id rango de numeración es inválido."])
    );
    // With one invoice range left, it is chosen again by default.
    assert_eq!(t.create_bill("NR-6").await["data"]["bill"]["number"], "SETP990000001");
}

#[tokio::test]
async fn created_and_moved_ranges_survive_a_restart_with_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(with_state_file(dir.path())).await;
    let (status, body) =
        t.post("/v1/numbering-ranges", &json!({"document": "22", "prefix": "NCB", "current": 40})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let t = t.restart(with_state_file(dir.path())).await;
    let shown = t.get_ok("/v1/numbering-ranges/11").await;
    assert_eq!(shown["data"]["prefix"], "NCB");
    assert_eq!(shown["data"]["current"], 40);
    t.sandbox.shutdown().await;
}
