    use super::super::config::SyslogBody;
    use super::*;
    use crate::enrich::tests::row;
    use crate::enrich::Enricher;

    fn event() -> Event {
        let mut row = row("S", "INT", "QPADEV0001", Some("QSECOFR"));
        row.remote_address = Some("192.0.2.9".into());
        row.remote_port = Some(50123);
        row.qualified_job_name = Some("123456/Q\"SEC]OFR\\/QPADEV0001".into());
        Enricher::new(&crate::enrich::config::AlertsConfig::default()).enrich(&row)
    }

    fn config(body: SyslogBody, protocol: SyslogProtocol) -> SyslogSinkConfig {
        SyslogSinkConfig {
            body,
            protocol,
            ..SyslogSinkConfig::default()
        }
    }

    #[test]
    fn rfc5424_header_sd_and_json_body() {
        let event = event();
        let (text, trimmed) = message(
            &event,
            &config(SyslogBody::Json, SyslogProtocol::Rfc5424),
            4,
        );
        assert!(!trimmed);
        // auth (4) * 8 + high (3) = 35
        assert!(text.starts_with("<35>1 2026-04-08T10:15:30.000120Z PROD1 auditfwd 123456 JS_S [auditfwd@32473 event_id=\"PROD1:QGPL/AUDRCV0042:42\" seq=\"42\""), "{text}");
        assert!(
            text.contains(" job=\"123456/Q\\\"SEC\\]OFR\\\\/QPADEV0001\""),
            "{text}"
        );
        let body = text.split_once("] ").unwrap().1;
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed["event_id"], "PROD1:QGPL/AUDRCV0042:42");
    }

    #[test]
    fn rfc3164_header() {
        let (text, _) = message(
            &event(),
            &config(SyslogBody::Json, SyslogProtocol::Rfc3164),
            4,
        );
        assert!(
            text.starts_with("<35>Apr  8 10:15:30 PROD1 auditfwd[123456]: {"),
            "{text}"
        );
    }

    #[test]
    fn cef_and_leef_escape_and_carry_the_fields_siems_parse() {
        let event = event();
        let (cef, _) = message(&event, &config(SyslogBody::Cef, SyslogProtocol::Rfc5424), 4);
        let cef = cef.split_once("] ").unwrap().1;
        assert!(cef.starts_with(&format!("CEF:0|auditfwd|auditfwd|{}|JS_S|Job started|8|rt=1775643330000 dvchost=PROD1 suser=QSECOFR src=192.0.2.9 spt=50123 act=job_start outcome=success externalId=PROD1:QGPL/AUDRCV0042:42", env!("CARGO_PKG_VERSION"))), "{cef}");
        assert!(
            cef.contains("dproc=123456/Q\"SEC]OFR\\\\/QPADEV0001"),
            "{cef}"
        );
        assert_eq!(cef_value("a=b\\c\nd"), "a\\=b\\\\c\\nd");
        assert_eq!(cef_header("a|b\\"), "a\\|b\\\\");
        let (leef, _) = message(
            &event,
            &config(SyslogBody::Leef, SyslogProtocol::Rfc5424),
            4,
        );
        let leef = leef.split_once("] ").unwrap().1;
        assert!(leef.starts_with(&format!("LEEF:2.0|auditfwd|auditfwd|{}|JS_S|x09|devTime=Apr 08 2026 10:15:30.000 UTC\tdevTimeFormat=MMM dd yyyy HH:mm:ss.SSS z\tcat=job_start\tsev=8\tidentHostName=PROD1\tusrName=QSECOFR\tsrc=192.0.2.9\tsrcPort=50123\toutcome=success", env!("CARGO_PKG_VERSION"))), "{leef}");
        // LEEF has no escapes: the delimiter becomes a space, a backslash stays.
        assert_eq!(leef_value("a\tb\\c^"), "a b\\c^");
        assert_eq!(cef_header("a\r\nb"), "a  b");
        assert_eq!(cef_value("a\tb\u{0}c"), "a b c");
    }

    #[test]
    fn oversize_drops_optional_items_in_order_and_never_cuts() {
        let event = event();
        let full = message(
            &event,
            &config(SyslogBody::Json, SyslogProtocol::Rfc5424),
            4,
        )
        .0;
        let limit = full.len() - 60;
        let small = SyslogSinkConfig {
            max_message_bytes: limit,
            ..config(SyslogBody::Json, SyslogProtocol::Rfc5424)
        };
        let (text, trimmed) = message(&event, &small, 4);
        assert!(trimmed && text.len() <= limit, "{} > {limit}", text.len());
        let body: serde_json::Value =
            serde_json::from_str(text.split_once("] ").unwrap().1).unwrap();
        assert!(
            body.get("target_qualified_job_name").is_none(),
            "dropped first"
        );
        assert_eq!(
            body["event_id"], "PROD1:QGPL/AUDRCV0042:42",
            "required fields stay"
        );
        let tiny = SyslogSinkConfig {
            max_message_bytes: 10,
            ..small
        };
        let (text, trimmed) = message(&event, &tiny, 4);
        assert!(trimmed);
        assert!(
            serde_json::from_str::<serde_json::Value>(text.split_once("] ").unwrap().1).is_ok(),
            "still whole JSON"
        );
    }

    #[test]
    fn facilities_and_msgids() {
        assert_eq!(facility_code("auth"), Some(4));
        assert_eq!(facility_code("LOCAL7"), Some(23));
        assert_eq!(facility_code("nope"), None);
        assert_eq!(escape_sd_value("a\"b\\c]d"), "a\\\"b\\\\c\\]d");
    }
