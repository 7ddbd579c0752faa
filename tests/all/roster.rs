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

#[test]
fn refuses_extra_personal_data() {
    let bad = parse("学号,姓名,身份证号\n1,张三,110101200001011234\n".as_bytes(), None).unwrap_err();
    assert_eq!(bad[0].field, "身份证号");
}

#[test]
fn reads_gb18030_csv() {
    let (bytes, _, _) = encoding_rs::GB18030.encode("学号,姓名\n7,王芳\n");
    let rows = parse(&bytes, Some("text/csv")).unwrap();
    assert_eq!(rows[0].display_name, "王芳");
}
