//! Roster parsing: headers in Chinese or English, every bad row at once, no extra personal data, GB18030 CSV.

use qiming::serve::roster::parse;

#[test]
fn reads_chinese_headers_and_reports_every_bad_row() {
    let ok = parse("\u{feff}学号,姓名\n20230101,张小明\n20230102, 李华 \n".as_bytes(), Some("text/csv")).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1].display_name, "李华");
    let bad = parse(b"student_number,display_name\n1,A\n,B\n1,C\nx y,\n", None).unwrap_err();
    let rows: Vec<(usize, &str)> = bad.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(rows, vec![(3, "student_number"), (4, "student_number"), (5, "student_number"), (5, "display_name")]);
}

/// A school-system export: a title row, extra columns (序号, 性别, even an ID
/// number) — the students are read, the other columns are named back and
/// never read into a row.
#[test]
fn reads_school_system_exports_and_ignores_extra_columns() {
    let export = "2024级五(2)班学生名单,,,,\n序号,学号,姓名,性别,身份证号\n1,20240201,张三,男,110101200001011234\n2,20240202,李四,女,110101200001021234\n";
    let parsed = qiming::serve::roster::parse_all(export.as_bytes(), Some("text/csv"));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.ignored_columns, vec!["序号", "性别", "身份证号"]);
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!((parsed.rows[0].row, parsed.rows[0].student_number.as_str(), parsed.rows[0].display_name.as_str()), (3, "20240201", "张三"));
    // Nothing of the ID number survives in what is kept.
    assert!(!format!("{:?}", parsed.rows).contains("1101012000"));
}

#[test]
fn reads_gb18030_csv() {
    let (bytes, _, _) = encoding_rs::GB18030.encode("学号,姓名\n7,王芳\n");
    let rows = parse(&bytes, Some("text/csv")).unwrap();
    assert_eq!(rows[0].display_name, "王芳");
}

/// A small XLSX whose shared-strings table unpacks to megabytes is refused
/// before calamine reads it (a 246 KB file once expanded to 103 MB of XML).
#[test]
fn refuses_an_xlsx_whose_parts_unpack_too_far() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "学号").unwrap();
    sheet.write_string(0, 1, "姓名").unwrap();
    // 300 distinct 32,000-character strings: ~9.6 MB of shared strings, a few hundred KB zipped.
    for i in 0..300u32 {
        sheet.write_string(i + 1, 2, format!("{i:05}{}", "x".repeat(32_000))).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    assert!(bytes.len() < 2 << 20, "the bomb is small: {} bytes", bytes.len());
    let errors = parse(&bytes, Some(qiming::serve::roster::XLSX_TYPE)).unwrap_err();
    assert!(errors[0].message.contains("unpacks"), "{errors:?}");
}

/// Old login records and expired sessions are pruned; recent ones stay.
#[tokio::test]
async fn pruning_removes_old_login_records_and_expired_sessions() {
    let s = crate::server::state("sqlite", "prune").await;
    let now = qiming::serve::now();
    for (at, who) in [(now - 3 * 24 * 3600, "old"), (now - 60, "recent")] {
        sqlx::query("INSERT INTO login_failures (username, client, ip, at) VALUES ($1, 'ip:1', '1', $2)").bind(who).bind(at).execute(&s.db.pool).await.unwrap();
    }
    s.db.create_session("expired-hash", "csrf", 1, now - 100, now - 10).await.unwrap();
    s.db.create_session("live-hash", "csrf", 1, now, now + 3600).await.unwrap();
    let removed = s.db.prune(now).await.unwrap();
    assert_eq!(removed, 2);
    use sqlx::Row;
    let left: Vec<String> = sqlx::query("SELECT username FROM login_failures").fetch_all(&s.db.pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec!["recent".to_string()]);
    let sessions: Vec<String> = sqlx::query("SELECT token_hash FROM sessions").fetch_all(&s.db.pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(sessions, vec!["live-hash".to_string()]);
}
