//! Assessments in the studio's connected mode: the answer queue on its own, and a sitting against a real `qiming serve` that drops off and comes back.

use std::collections::BTreeMap;
use std::path::Path;

use qiming_studio::assess::{Account, AnswerQueue, Draft, SavedAnswer, Settled};
use qiming_studio::connect::NetError;
use qiming_studio::{Lang, Options, Screen, Studio};
use serde_json::{Value, json};

use egui_kittest::kittest::Queryable;

use crate::process::{expect, free_port, serve};
use crate::studio::{curriculum, step_until, studio, studio_binary, tempfile_dir};

fn account(name: &str) -> Account {
    Account { server: "http://school:8080".into(), username: name.into() }
}

fn saved(item: &str) -> Result<SavedAnswer, NetError> {
    Ok(SavedAnswer { item_id: item.into(), answered_at: Some(1), remaining_seconds: 600 })
}

/// (assessment, item, response) of an account's waiting answers, oldest first.
fn waiting(q: &AnswerQueue, who: &Account) -> Vec<(i64, String, Value)> {
    q.answers().iter().filter(|a| &a.account == who).map(|a| (a.assessment_id, a.item_id.clone(), a.response.clone())).collect()
}

#[test]
fn the_queue_keeps_answers_offline_and_flushes_them_in_order() {
    let dir = tempfile_dir::Dir::new("assess-queue");
    let path = dir.path.join("assess-queue.json");
    let (ming, hong) = (account("ming"), account("hong"));
    let mut q = AnswerQueue::open(&path);
    assert!(q.is_empty());
    q.push(&ming, 1, "q1", json!({"choices": ["a"]})).unwrap();
    q.push(&ming, 1, "q2", json!({"value": true})).unwrap();
    q.push(&hong, 1, "q1", json!({"choices": ["c"]})).unwrap();
    // A newer answer to the same question replaces the one still waiting, and goes to the back.
    q.push(&ming, 1, "q1", json!({"choices": ["b"]})).unwrap();
    q.push(&ming, 1, "q3", Value::Null).unwrap();
    let expected = vec![(1, "q2".to_string(), json!({"value": true})), (1, "q1".to_string(), json!({"choices": ["b"]})), (1, "q3".to_string(), Value::Null)];
    assert_eq!(waiting(&q, &ming), expected);

    // Offline: nothing leaves the queue, and it stops at the first failure.
    let mut tries = 0;
    let (n, stop) = q.flush(&ming, |_| {
        tries += 1;
        Err(NetError::Offline)
    });
    assert_eq!((n, stop, tries), (0, Some(Settled::Retry), 1));
    // The server restarting (503) or the session expiring (401) is the same: try again later.
    for status in [503, 429, 401] {
        let (n, stop) = q.flush(&ming, |_| Err(NetError::Server { status, code: "x".into(), reason: None }));
        assert_eq!((n, stop), (0, Some(Settled::Retry)));
    }
    assert_eq!(waiting(&q, &ming), expected);

    // The laptop closes: a new studio reads the same queue from disk.
    drop(q);
    let mut q = AnswerQueue::open(&path);
    assert_eq!(waiting(&q, &ming), expected);
    assert_eq!(waiting(&q, &hong), vec![(1, "q1".to_string(), json!({"choices": ["c"]}))]);

    // Back online: sent oldest first, each exactly as given; another account's answers wait for its own session.
    let mut sent = Vec::new();
    let (n, stop) = q.flush(&ming, |a| {
        sent.push((a.assessment_id, a.item_id.clone(), a.response.clone()));
        saved(&a.item_id)
    });
    assert_eq!((n, stop), (3, None));
    assert_eq!(sent, expected);
    assert!(waiting(&q, &ming).is_empty());
    assert_eq!(AnswerQueue::open(&path).len(), 1, "the file holds only what is still waiting");

    // A reply lost after the server stored the answer: the answer is still queued and goes
    // out again (the PUT is idempotent); a late "saved" for an entry already gone changes nothing.
    let seq = q.push(&ming, 2, "q9", json!({"number": 3.5})).unwrap();
    assert_eq!(q.settle(seq, &Err(NetError::Offline)), Settled::Retry);
    assert_eq!(q.next(&ming).map(|a| a.seq), Some(seq));
    assert_eq!(q.settle(seq, &saved("q9")), Settled::Saved);
    assert_eq!(q.settle(seq, &saved("q9")), Settled::Saved);
    assert!(q.next(&ming).is_none());
}

#[test]
fn a_closed_sitting_drops_its_answers_and_a_refused_one_does_not_block_the_rest() {
    let dir = tempfile_dir::Dir::new("assess-queue-closed");
    let path = dir.path.join("assess-queue.json");
    let ming = account("ming");
    let mut q = AnswerQueue::open(&path);
    q.push(&ming, 1, "bad", json!({"choices": ["zz"]})).unwrap();
    q.push(&ming, 1, "q2", json!({"value": false})).unwrap();
    q.push(&ming, 3, "q1", json!({"text": "你好"})).unwrap();
    q.push(&ming, 3, "q2", json!({"number": 2})).unwrap();
    q.push(&ming, 1, "q3", json!({"value": true})).unwrap();
    let mut sent = Vec::new();
    let (n, stop) = q.flush(&ming, |a| {
        sent.push((a.assessment_id, a.item_id.clone()));
        match (a.assessment_id, a.item_id.as_str()) {
            (1, "bad") => Err(NetError::Server { status: 400, code: "invalid".into(), reason: Some("shape".into()) }),
            (3, _) => Err(NetError::Server { status: 409, code: "time_up".into(), reason: None }),
            _ => saved(&a.item_id),
        }
    });
    // The refused answer left the queue; the next went on; assessment 3's time was up, so both of
    // its answers are dropped (they can never be saved) and assessment 1's last answer is still to go.
    assert_eq!(sent, vec![(1, "bad".to_string()), (1, "q2".to_string()), (3, "q1".to_string())]);
    assert_eq!((n, stop), (1, Some(Settled::Closed { code: "time_up".into(), dropped: 2 })));
    assert_eq!(waiting(&q, &ming), vec![(1, "q3".to_string(), json!({"value": true}))]);
}

#[test]
fn a_damaged_queue_file_is_kept_aside_and_drafts_survive_a_restart() {
    let dir = tempfile_dir::Dir::new("assess-queue-damaged");
    let path = dir.path.join("assess-queue.json");
    std::fs::write(&path, b"{ not json").unwrap();
    let mut q = AnswerQueue::open(&path);
    assert!(q.is_empty());
    assert_eq!(std::fs::read(dir.path.join("assess-queue.json.damaged")).unwrap(), b"{ not json");
    let ming = account("ming");
    q.set_draft(Draft { account: ming.clone(), assessment_id: 4, item_id: "task".into(), language: "rhai".into(), program: "motors(1, 1);".into() });
    q.save_drafts().unwrap();
    let q = AnswerQueue::open(&path);
    assert_eq!(q.draft(&ming, 4, "task").map(|d| d.program.as_str()), Some("motors(1, 1);"));
    assert!(q.draft(&account("hong"), 4, "task").is_none());
}

#[test]
fn numbers_are_read_as_children_type_them() {
    use qiming_studio::assess::ui::parse_number;
    assert_eq!(parse_number("3.5"), Some(3.5));
    assert_eq!(parse_number("3,5"), Some(3.5));
    assert_eq!(parse_number("１２"), Some(12.0));
    assert_eq!(parse_number("-2"), Some(-2.0));
    assert_eq!(parse_number("abc"), None);
    assert_eq!(parse_number("inf"), None);
}

#[test]
fn server_refusals_are_told_in_the_learners_words() {
    use qiming_studio::assess::ui::problem_text;
    let e = |code: &str| NetError::Server { status: 409, code: code.into(), reason: None };
    for code in ["assessment_not_open", "assessment_closed", "time_up", "sitting_submitted", "attempts_used_up", "item_locked"] {
        for lang in [Lang::Zh, Lang::En] {
            let text = problem_text(lang, &e(code));
            assert!(!text.contains(code) && !text.is_empty(), "{code}: {text}");
        }
    }
    assert!(problem_text(Lang::Zh, &e("time_up")).contains("时间"));
    assert!(problem_text(Lang::En, &NetError::Offline).contains("Cannot reach the server"));
}

/// The seven item types of the delivery test's form.
const FORM: [&str; 7] = ["ct-56-001", "ct-56-003", "ct-56-009", "ct-56-004", "ct-56-017", "ct-56-011", "ct-56-013"];

/// A class with a student (`crash::classroom_with_login`) and a fixed test of every item type set for it.
fn classroom_with_test(port: u16) -> (crate::crash::Classroom, i64) {
    let class = crate::crash::classroom_with_login(port, 10);
    let teacher =
        expect(port, "POST", "/api/login", None, Some(json!({"username": "t", "password": "teacher-pw-8841"})), 200)["token"].as_str().unwrap().to_string();
    let classes = expect(port, "GET", "/api/classes", Some(&teacher), None, 200);
    let cid = classes["classes"][0]["id"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let a = expect(
        port,
        "POST",
        "/api/assessments",
        Some(&teacher),
        Some(json!({"title": "信息素养小测", "population": "students", "mode": "fixed", "items": FORM, "closes_at": now + 7200,
            "time_limit_minutes": 30, "class_ids": [cid]})),
        201,
    );
    (class, a["id"].as_i64().unwrap())
}

/// The server's copy of the sitting: item id → saved response.
fn server_answers(port: u16, token: &str, id: i64) -> BTreeMap<String, Value> {
    let v = expect(port, "GET", &format!("/api/assessments/{id}/sitting"), Some(token), None, 200);
    v["items"].as_array().unwrap().iter().map(|p| (p["item"]["id"].as_str().unwrap().to_string(), p["response"].clone())).collect()
}

fn item_json(s: &Studio, i: usize) -> Value {
    let p = &s.assess.sitting.as_ref().unwrap().view.items[i];
    let ids = |list: &[qiming_studio::assess::Choice]| list.iter().map(|c| json!({"id": c.id})).collect::<Vec<_>>();
    json!({"type": p.item.kind, "options": ids(&p.item.options), "targets": ids(&p.item.targets)})
}

#[test]
fn a_sitting_in_the_studio_survives_a_dropped_connection_and_is_scored() {
    let dir = tempfile_dir::Dir::new("studio-assess");
    let data = dir.path.join("server");
    let port = free_port();
    let log = dir.path.join("server.log");
    let server_args = ["--data-dir", data.to_str().unwrap()];
    let env = [("QIMING_ADMIN_PASSWORD", crate::crash::ADMIN_PASSWORD)];
    let mut server = serve(port, &server_args, &env, &log);
    let (class, id) = classroom_with_test(port);
    let url = format!("http://127.0.0.1:{port}");

    let (mut h, studio_data) = studio(Options { server: Some(url.clone()), screen: Some(Screen::Connected), lang: Some(Lang::En), ..Options::default() });
    h.run();
    for (field, text) in [("Username", &class.username), ("Password", &class.password)] {
        h.get_by_label(field).focus();
        h.run();
        h.get_by_label(field).type_text(text);
        h.run();
    }
    h.get_by_label("Sign in").click();
    step_until(&mut h, "signing in", |s| s.connected.session.is_some());
    step_until(&mut h, "the list of tests", |s| !s.assess.list.is_empty());
    h.get_by_label("信息素养小测");
    h.get_by_label_contains("Not started");
    h.get_by_label("Start").click();
    step_until(&mut h, "the sitting", |s| s.assess.sitting.is_some());
    let session = h.state().connected.session.clone().unwrap();
    {
        let open = h.state().assess.sitting.as_ref().unwrap();
        assert_eq!(open.view.items.len(), FORM.len());
        assert_eq!(open.position, 0);
    }
    h.get_by_label_contains("Question 1 of 7");
    // The server's clock: 30 minutes from the start, counted down here.
    let left = h.state().assess.sitting.as_ref().unwrap().remaining();
    assert!((1700..=1800).contains(&left), "{left}");
    h.get_by_label_contains("Time left ");

    // The keyboard: B picks the second option of the single-choice question, and it is saved at once.
    let second = h.state().assess.sitting.as_ref().unwrap().view.items[0].item.options[1].id.clone();
    h.key_press(egui::Key::B);
    h.run_steps(2);
    step_until(&mut h, "the first answer saved", |s| s.assess.queue.is_empty() && s.assess.sitting.as_ref().unwrap().saved_at.is_some());
    h.get_by_label("Every answer is saved on the server");
    assert_eq!(server_answers(port, &class.token, id)["ct-56-001"], json!({"choices": [second]}));
    // PageDown moves on (and the server remembers where the taker is).
    h.key_press(egui::Key::PageDown);
    h.run_steps(2);
    assert_eq!(h.state().assess.sitting.as_ref().unwrap().position, 1);
    h.get_by_label_contains("Question 2 of 7");
    // Text size: A+ makes it larger and is remembered.
    let before = h.state().assess.font_size;
    h.get_by_label("A+").click();
    h.run_steps(2);
    assert!(h.state().assess.font_size > before);
    assert_eq!(h.state().settings.test_font_size, h.state().assess.font_size);

    // More answers while online, each a valid response of its type.
    let mut given: BTreeMap<String, Value> = BTreeMap::new();
    given.insert("ct-56-001".into(), json!({"choices": [second]}));
    for (i, item) in FORM.iter().enumerate().take(3).skip(1) {
        let answer = crate::assessments::some_answer(&item_json(h.state(), i));
        h.state_mut().assess.answer(&session, item, Some(answer.clone()));
        given.insert(item.to_string(), answer);
    }
    step_until(&mut h, "three answers saved", |s| s.assess.queue.is_empty());
    assert_eq!(server_answers(port, &class.token, id).into_iter().filter(|(_, r)| !r.is_null()).collect::<BTreeMap<_, _>>(), given);

    // A reply lost after the server stored the answer: the same PUT again is harmless.
    let again = qiming_studio::assess::QueuedAnswer {
        seq: 0,
        account: Account::of(&session),
        assessment_id: id,
        item_id: FORM[2].into(),
        response: given[FORM[2]].clone(),
    };
    let first = qiming_studio::assess::send_answer(&session, &again).unwrap();
    let second_send = qiming_studio::assess::send_answer(&session, &again).unwrap();
    assert_eq!((first.item_id.as_str(), second_send.item_id.as_str()), (FORM[2], FORM[2]));
    h.state_mut().assess.queue.push(&Account::of(&session), id, FORM[2], given[FORM[2]].clone()).unwrap();
    step_until(&mut h, "the re-sent answer", |s| s.assess.queue.is_empty());
    assert_eq!(server_answers(port, &class.token, id)[FORM[2]], given[FORM[2]]);

    // The network drops: answers go on being given, wait on disk, and the screen says so.
    server.kill();
    for (i, item) in FORM.iter().enumerate().skip(3) {
        let answer = crate::assessments::some_answer(&item_json(h.state(), i));
        h.state_mut().assess.answer(&session, item, Some(answer.clone()));
        given.insert(item.to_string(), answer);
    }
    step_until(&mut h, "the offline notice", |s| matches!(s.assess.problem, Some(NetError::Offline)));
    h.get_by_label_contains("kept on this computer");
    assert_eq!(h.state().assess.queue.len(), FORM.len() - 3);
    assert_eq!(h.state().assess.sitting.as_ref().unwrap().answered(), FORM.len(), "the screen shows every answer given");
    let file = std::fs::read_to_string(studio_data.path.join("assess-queue.json")).unwrap();
    assert!(file.contains("ct-56-017") && file.contains("ct-56-013"), "{file}");
    // The laptop closes and opens again (still offline): a new studio has the same waiting answers.
    let reopened =
        Studio::new(&egui::Context::default(), Options { curriculum: Some(curriculum()), data_dir: Some(studio_data.path.clone()), ..Options::default() });
    assert_eq!(reopened.assess.queue.len(), FORM.len() - 3);
    drop(reopened);

    // Back online: every answer arrives, as given.
    let _server = serve(port, &server_args, &env, &log);
    step_until(&mut h, "the waiting answers sent", |s| s.assess.queue.is_empty() && s.assess.problem.is_none());
    assert_eq!(server_answers(port, &class.token, id), given);
    // Resuming (a fresh open) shows every saved answer.
    h.get_by_label("← Back to the list").click();
    step_until(&mut h, "the list again", |s| s.assess.sitting.is_none() && !s.assess.busy);
    h.get_by_label_contains("In progress, ");
    h.get_by_label("Continue").click();
    step_until(&mut h, "the resumed sitting", |s| s.assess.sitting.is_some());
    assert_eq!(h.state().assess.sitting.as_ref().unwrap().answered(), FORM.len());

    // Submit, confirm, and the score is shown — the server's own.
    h.get_by_label("Submit the test").click();
    h.run_steps(2);
    h.get_by_label_contains("You have answered 7 of 7");
    h.get_by_label("Submit now").click();
    step_until(&mut h, "the results", |s| s.assess.sitting.as_ref().is_some_and(|o| o.view.submitted()));
    let results = h.state().assess.sitting.as_ref().unwrap().view.results.clone().expect("results");
    let server_view = expect(port, "GET", &format!("/api/assessments/{id}/sitting"), Some(&class.token), None, 200);
    assert_eq!(results.points, server_view["results"]["points"].as_i64());
    assert_eq!(results.max_points, server_view["results"]["max_points"].as_i64());
    h.get_by_label(&format!("Score: {} / {}", results.points.unwrap(), results.max_points.unwrap()));
    assert!(h.get_all_by_label_contains("Right answer").count() >= 1);
}

/// The question screen, rendered by the real window under Xvfb (docs/studio/assessment-*.png).
#[test]
fn the_question_screen_renders_under_xvfb_in_both_languages() {
    let xvfb = std::process::Command::new("xvfb-run").arg("--help").output().is_ok();
    let Some(bin) = studio_binary().filter(|_| xvfb) else {
        assert!(std::env::var_os("CI").is_none(), "CI builds qiming-studio and installs xvfb: both are needed here");
        eprintln!("skipping: build qiming-studio (cargo build -p qiming-studio) and install xvfb to run this test");
        return;
    };
    let dir = tempfile_dir::Dir::new("assess-screenshot");
    let port = free_port();
    let data = dir.path.join("server");
    let env = [("QIMING_ADMIN_PASSWORD", crate::crash::ADMIN_PASSWORD)];
    let _server = serve(port, &["--data-dir", data.to_str().unwrap()], &env, &dir.path.join("server.log"));
    let (class, id) = classroom_with_test(port);
    let t = Some(class.token.as_str());
    let view = expect(port, "POST", &format!("/api/assessments/{id}/sitting"), t, None, 201);
    // Two answers given, and the taker on the multiple-choice question (the second).
    for i in [0, 2] {
        let item = &view["items"][i]["item"];
        let answer = crate::assessments::some_answer(item);
        expect(port, "PUT", &format!("/api/assessments/{id}/sitting/answers/{}", item["id"].as_str().unwrap()), t, Some(json!({"response": answer})), 200);
    }
    expect(port, "PUT", &format!("/api/assessments/{id}/sitting/position"), t, Some(json!({"position": 1})), 204);
    let url = format!("http://127.0.0.1:{port}");
    for lang in ["zh-CN", "en"] {
        let studio_data = dir.path.join(format!("data-{lang}"));
        write_session(&studio_data, &url, &class.username, &class.token);
        let out = dir.path.join(format!("assessment-{lang}.png"));
        let status = std::process::Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1366x768x24"])
            .arg(&bin)
            .args(["--lang", lang, "--assessment", &id.to_string(), "--size", "1366x768"])
            .arg("--curriculum")
            .arg(curriculum())
            .arg("--data-dir")
            .arg(&studio_data)
            .arg("--screenshot")
            .arg(&out)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        if let Some(keep) = std::env::var_os("QIMING_KEEP_SCREENSHOTS") {
            std::fs::copy(&out, Path::new(&keep).join(format!("assessment-{lang}.png"))).unwrap();
        }
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1366, 768));
        let pixels: Vec<[u8; 4]> = buf[..info.buffer_size()].chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
        let distinct: std::collections::BTreeSet<[u8; 4]> = pixels.iter().copied().collect();
        assert!(distinct.len() > 50, "{lang}: a blank screenshot ({} colours)", distinct.len());
    }
}

/// A signed-in studio data folder, as the studio leaves it after a sign-in.
fn write_session(dir: &Path, server: &str, username: &str, token: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let session = qiming_studio::connect::Session { server: server.into(), username: username.into(), token: token.into() };
    std::fs::write(dir.join("session.json"), serde_json::to_vec(&session).unwrap()).unwrap();
}
