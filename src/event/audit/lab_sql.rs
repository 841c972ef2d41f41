//! `deploy/lab/types.sql`, generated from the catalog: the lab's stand-ins for
//! every other type's SYSTOOLS function, so the lab cannot drift from what the
//! reader selects. `AUDITFWD_UPDATE_LAB=1 cargo test --lib lab_sql` rewrites it.

use super::{catalog, Kind, TypeSpec};

/// The common header, as AUDIT_JOURNAL_JS returns it (`lab.audit_journal_js_row`),
/// and where each value comes from in `lab.typed_entries`.
const HEADER: &[(&str, &str, &str)] = &[
    (
        "ENTRY_TIMESTAMP",
        "timestamp(6) without time zone",
        "e.\"ENTRY_TIMESTAMP\"",
    ),
    ("SEQUENCE_NUMBER", "numeric(21, 0)", "e.\"SEQUENCE_NUMBER\""),
    ("USER_NAME", "char(10)", "e.\"USER_NAME\""),
    (
        "QUALIFIED_JOB_NAME",
        "varchar(28)",
        "e.\"QUALIFIED_JOB_NAME\"",
    ),
    ("JOB_NAME", "char(10)", "e.\"JOB_NAME\""),
    ("JOB_USER", "char(10)", "e.\"JOB_USER\""),
    ("JOB_NUMBER", "char(6)", "e.\"JOB_NUMBER\""),
    ("THREAD", "bigint", "NULL"),
    ("PROGRAM_LIBRARY", "char(10)", "e.\"PROGRAM_LIBRARY\""),
    ("PROGRAM_NAME", "char(10)", "e.\"PROGRAM_NAME\""),
    ("PROGRAM_LIBRARY_ASP_DEVICE", "char(10)", "'*SYSBAS'"),
    ("PROGRAM_LIBRARY_ASP_NUMBER", "integer", "1"),
    ("REMOTE_PORT", "integer", "e.\"REMOTE_PORT\""),
    ("REMOTE_ADDRESS", "varchar(46)", "e.\"REMOTE_ADDRESS\""),
    ("SYSTEM_NAME", "varchar(8)", "e.\"SYSTEM_NAME\""),
    (
        "SYSTEM_SEQUENCE_NUMBER",
        "numeric(21, 0)",
        "5000000000 + e.\"SEQUENCE_NUMBER\"",
    ),
    ("RECEIVER_LIBRARY", "char(10)", "e.\"RECEIVER_LIBRARY\""),
    ("RECEIVER_NAME", "char(10)", "e.\"RECEIVER_NAME\""),
    ("RECEIVER_ASP_DEVICE", "char(10)", "'*SYSBAS'"),
    ("RECEIVER_ASP_NUMBER", "integer", "1"),
    ("ARM_NUMBER", "integer", "1"),
];

fn sql_type(spec: &TypeSpec, name: &str, kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "integer",
        Kind::Flag => "char(1)",
        Kind::Text if name == spec.code_column => "varchar(10)",
        Kind::Text if name.ends_with("_VALUE") || name == "PATH_NAME" => "varchar(1500)",
        Kind::Text => "varchar(200)",
    }
}

const PREAMBLE: &str = r#"-- deploy/lab/types.sql: the audit types besides JS (PW, CP, AF, SV, PS, GR, CA,
-- OW, AD, PA). GENERATED from src/event/audit/catalog.rs; do not edit:
--   AUDITFWD_UPDATE_LAB=1 cargo test --lib lab_sql
-- Loaded after schema.sql. Entries of these types live in lab.typed_entries and
-- take their sequence numbers from the same per-receiver counter as the JS
-- entries (lab.receivers.last_sequence_number), so one journal has one sequence
-- space for every type, as QAUDJRN does. Each SYSTOOLS.AUDIT_JOURNAL_xx function
-- has AUDIT_JOURNAL_JS's parameters and cost model: PL/pgSQL that materializes
-- its whole range before the first row (counted in pg_stat_user_functions).

CREATE UNLOGGED TABLE lab.typed_entries (
    receiver_ordinal     bigint NOT NULL REFERENCES lab.receivers ON DELETE CASCADE,
    "SEQUENCE_NUMBER"    numeric(21, 0) NOT NULL,
    audit_type           char(2) NOT NULL,
    "ENTRY_TIMESTAMP"    timestamp(6) without time zone NOT NULL,
    "USER_NAME"          char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME"           char(10),
    "JOB_USER"           char(10),
    "JOB_NUMBER"         char(6),
    "PROGRAM_LIBRARY"    char(10),
    "PROGRAM_NAME"       char(10),
    "REMOTE_PORT"        integer,
    "REMOTE_ADDRESS"     varchar(46),
    "SYSTEM_NAME"        varchar(8),
    "RECEIVER_LIBRARY"   char(10),
    "RECEIVER_NAME"      char(10),
    -- The entry-specific columns, by IBM's column name ('Y'/'N' for flags).
    details              jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (receiver_ordinal, "SEQUENCE_NUMBER")
)
WITH (parallel_workers = 0);

-- Empty the journal: no receivers, no entries of any type.
CREATE OR REPLACE FUNCTION lab.reset() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE lab.typed_entries, lab.entries, lab.receivers;
END
$$;

-- Append one entry of `audit_type` (PW, CP, ...) to the attached receiver, with
-- its entry-specific columns in `details` (IBM's names); returns its sequence.
CREATE FUNCTION lab.add_audit(
    audit_type     text,
    entry_ts       timestamp,
    details        jsonb   DEFAULT '{}',
    user_name      text    DEFAULT 'QUSER',
    remote_address text    DEFAULT NULL,
    job_name       text    DEFAULT 'QZSOSIGN',
    system_name    text    DEFAULT 'LABSYS',
    remote_port    int     DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    rcv     lab.receivers;
    new_seq numeric;
    v_user  text := lab.object_name(user_name);
    v_job   text := lab.object_name(job_name);
    v_num   text;
BEGIN
    SELECT * INTO rcv FROM lab.receivers AS r WHERE r.status = 'ATTACHED' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no journal receiver is attached: call lab.attach_receiver(''AUDRCV0001'') first'
            USING ERRCODE = '55000';
    END IF;
    new_seq := rcv.last_sequence_number + 1;
    v_num := lpad(((new_seq % 999999) + 1)::text, 6, '0');
    INSERT INTO lab.typed_entries VALUES (
        rcv.receiver_ordinal, new_seq, upper(btrim(audit_type)), entry_ts, v_user,
        lab.qualified_job_name(v_num, v_user, v_job), v_job, v_user, v_num, 'QSYS', v_job,
        remote_port, remote_address, upper(system_name), rcv.receiver_library, rcv.receiver_name,
        coalesce(details, '{}'));
    UPDATE lab.receivers AS r
    SET last_sequence_number = new_seq, max_entry_timestamp = greatest(r.max_entry_timestamp, entry_ts)
    WHERE r.receiver_ordinal = rcv.receiver_ordinal;
    RETURN new_seq;
END
$$;

-- QSYS2.USER_INFO (the columns auditfwd reads), with a few profiles; change one
-- with lab.set_special_authorities.
CREATE TABLE qsys2.user_info (
    "AUTHORIZATION_NAME"  varchar(10) PRIMARY KEY,
    "STATUS"              varchar(10) NOT NULL DEFAULT '*ENABLED',
    "SPECIAL_AUTHORITIES" varchar(88)
);
INSERT INTO qsys2.user_info ("AUTHORIZATION_NAME", "SPECIAL_AUTHORITIES") VALUES
    ('QSECOFR', '*ALLOBJ *AUDIT *IOSYSCFG *JOBCTL *SAVSYS *SECADM *SERVICE *SPLCTL'),
    ('SECADM01', '*ALLOBJ *SECADM'),
    ('OPSADM', '*JOBCTL *SAVSYS'),
    ('JSMITH', NULL),
    ('QUSER', NULL);

CREATE FUNCTION lab.set_special_authorities(profile text, authorities text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO qsys2.user_info ("AUTHORIZATION_NAME", "SPECIAL_AUTHORITIES")
    VALUES (upper(btrim(profile)), authorities)
    ON CONFLICT ("AUTHORIZATION_NAME") DO UPDATE SET "SPECIAL_AUTHORITIES" = excluded."SPECIAL_AUTHORITIES"
$$;

-- SYSTOOLS.AUDIT_JOURNAL_JS again, with the cost of a journal that holds other
-- types: on IBM i the function reads every entry of its range (DISPLAY_JOURNAL)
-- and keeps the JS ones, so the other types' entries in the range are read too.
-- Same parameters, same result, same materializing call as in schema.sql.
CREATE OR REPLACE FUNCTION systools.audit_journal_js(
    starting_receiver_library varchar   DEFAULT NULL,
    starting_receiver_name    varchar   DEFAULT '*CURAVLCHN',
    ending_receiver_library   varchar   DEFAULT NULL,
    ending_receiver_name      varchar   DEFAULT '*CURRENT',
    starting_timestamp        timestamp DEFAULT NULL,
    ending_timestamp          timestamp DEFAULT NULL,
    user_name                 varchar   DEFAULT NULL,
    job                       varchar   DEFAULT NULL,
    program                   varchar   DEFAULT NULL,
    starting_sequence         numeric   DEFAULT NULL,
    ending_sequence           numeric   DEFAULT NULL)
RETURNS SETOF lab.audit_journal_js_row
LANGUAGE plpgsql STABLE AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
        ending_receiver_library, ending_receiver_name, starting_timestamp, starting_sequence,
        ending_sequence);
    PERFORM count(*) FROM lab.typed_entries AS t
    WHERE (t.receiver_ordinal, t."SEQUENCE_NUMBER") >= (b.start_ordinal, b.start_sequence)
      AND (t.receiver_ordinal, t."SEQUENCE_NUMBER") <= (b.end_ordinal, b.end_sequence);
    RETURN QUERY
    SELECT * FROM lab.audit_journal_js_inlined(
        starting_receiver_library, starting_receiver_name, ending_receiver_library,
        ending_receiver_name, starting_timestamp, ending_timestamp, user_name, job,
        program, starting_sequence, ending_sequence);
END
$$;

-- n entries of every type, deterministic for (state, n, seed): about 40% JS, then
-- PW, AF, CP, SV, PS, GR, CA, OW, AD and PA, one every `step` from start_ts, a new
-- receiver every rows_per_receiver entries; entries 500 to 505 of every 1,000 are a
-- brute-force burst (PW P for VICTIM from 203.0.113.66), and one CP in ten grants
-- *ALLOBJ. Slower than lab.generate (a loop): for tests of a few thousand entries.
CREATE FUNCTION lab.generate_mixed(
    n                 bigint,
    seed              int       DEFAULT 1,
    start_ts          timestamp DEFAULT '2026-04-08 08:00:00',
    step              interval  DEFAULT '100 milliseconds',
    rows_per_receiver bigint    DEFAULT 100000,
    system_name       text      DEFAULT 'LABSYS')
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    i       bigint;
    r       int;
    ts      timestamp;
    users   text[] := ARRAY['JSMITH', 'MROSSI', 'AKUMAR', 'LCHEN', 'OPSADM', 'QSECOFR'];
    addrs   text[] := ARRAY['192.0.2.10', '192.0.2.23', '198.51.100.7', '203.0.113.5'];
    u       text;
    a       text;
    next_no integer;
BEGIN
    FOR i IN 0 .. n - 1 LOOP
        IF i % rows_per_receiver = 0 AND (i > 0 OR NOT EXISTS (SELECT 1 FROM lab.receivers WHERE status = 'ATTACHED')) THEN
            SELECT coalesce(max(substr(receiver_name, 7)::integer), 0) + 1 INTO next_no FROM lab.receivers;
            PERFORM lab.attach_receiver('AUDRCV' || lpad(next_no::text, 4, '0'), 'QGPL', false, start_ts + step * i);
        END IF;
        r := abs(hashtext(seed::text || ':' || i::text)) % 100;
        ts := start_ts + step * i;
        u := users[1 + abs(hashtext('u' || seed::text || i::text)) % array_length(users, 1)];
        a := addrs[1 + abs(hashtext('a' || seed::text || i::text)) % array_length(addrs, 1)];
        IF i % 1000 BETWEEN 500 AND 505 THEN
            PERFORM lab.add_audit('PW', ts, jsonb_build_object('VIOLATION_TYPE', 'P', 'AUDIT_USER_NAME', 'VICTIM',
                'DEVICE_NAME', 'QPADEV0009'), 'QUSER', '203.0.113.66', 'QZSOSIGN', system_name, 50000 + r);
        ELSIF r < 40 THEN
            PERFORM lab.add_entry((ARRAY['S', 'E', 'M', 'P', 'B'])[1 + r % 5], 'QPADEV0001', u, 'INT', u, ts,
                a, 40000 + r, NULL, 1, system_name);
        ELSIF r < 60 THEN
            PERFORM lab.add_audit('PW', ts, jsonb_build_object('VIOLATION_TYPE', (ARRAY['P', 'U', 'Q', 'P'])[1 + r % 4],
                'AUDIT_USER_NAME', u), 'QUSER', a, 'QZDASOINIT', system_name, 50000 + r);
        ELSIF r < 70 THEN
            PERFORM lab.add_audit('AF', ts, jsonb_build_object('VIOLATION_TYPE', (ARRAY['A', 'S', 'T', 'K'])[1 + r % 4],
                'OBJECT_LIBRARY', 'PAYROLL', 'OBJECT_NAME', 'SALARIES', 'OBJECT_TYPE', '*FILE',
                'USER_PROFILE_NAME', u, 'TCPIP_PORT', (20 + r)::text), u, a, 'QPADEV0002', system_name);
        ELSIF r < 75 THEN
            PERFORM lab.add_audit('CP', ts, jsonb_build_object('COMMAND_TYPE', CASE WHEN r = 70 THEN 'CRT' ELSE 'CHG' END,
                'USER_PROFILE', u, 'STATUS', '*ENABLED', 'PASSWORD_CHANGED', CASE WHEN r = 72 THEN 'Y' ELSE 'N' END,
                'ALLOBJ', CASE WHEN i % 10 = 3 THEN 'Y' ELSE 'N' END, 'PREVIOUS_ALLOBJ', 'N',
                'SECADM', 'N', 'PREVIOUS_SECADM', 'N'), 'SECADM01', NULL, 'QPADEV0003', system_name);
        ELSIF r < 80 THEN
            PERFORM lab.add_audit('SV', ts, jsonb_build_object('ENTRY_TYPE', 'A',
                'SYSTEM_VALUE', (ARRAY['QAUDLVL', 'QMAXSIGN', 'QDATFMT', 'QAUDCTL', 'QSECURITY'])[1 + r % 5],
                'OLD_VALUE', '*AUTFAIL *SECURITY', 'NEW_VALUE', '*NONE'), 'QSECOFR', NULL, 'QPADEV0004', system_name);
        ELSIF r < 85 THEN
            PERFORM lab.add_audit('PS', ts, jsonb_build_object('ENTRY_TYPE', (ARRAY['H', 'S', 'E', 'P'])[1 + r % 4],
                'USER_PROFILE_NAME', u), 'QUSER', a, 'QZRCSRVS', system_name);
        ELSIF r < 89 THEN
            PERFORM lab.add_audit('GR', ts, jsonb_build_object('ENTRY_TYPE', (ARRAY['A', 'D', 'R', 'F'])[1 + r % 4],
                'EXIT_POINT_NAME', 'QIBM_QZDA_INIT', 'EXIT_PROGRAM_LIBRARY', 'SECLIB', 'EXIT_PROGRAM', 'ODBCEXIT'),
                'QSECOFR', NULL, 'QPADEV0005', system_name);
        ELSIF r < 93 THEN
            PERFORM lab.add_audit('CA', ts, jsonb_build_object('COMMAND_TYPE', (ARRAY['GRANT', 'REVOKE', 'GRTUSRAUT', 'REPLACE'])[1 + r % 4],
                'OBJECT_LIBRARY', 'PAYROLL', 'OBJECT_NAME', 'SALARIES', 'OBJECT_TYPE', '*FILE', 'USER_PROFILE_NAME', u),
                'OPSADM', NULL, 'QPADEV0006', system_name);
        ELSIF r < 96 THEN
            PERFORM lab.add_audit('OW', ts, jsonb_build_object('ENTRY_TYPE', 'A', 'OBJECT_LIBRARY', 'PAYROLL',
                'OBJECT_NAME', 'PAYCALC', 'OBJECT_TYPE', '*PGM', 'PREVIOUS_OWNER', 'OPSADM', 'NEW_OWNER', u),
                'OPSADM', NULL, 'QPADEV0007', system_name);
        ELSIF r < 98 THEN
            PERFORM lab.add_audit('AD', ts, jsonb_build_object('ENTRY_TYPE', (ARRAY['U', 'O'])[1 + r % 2],
                'OBJECT_AUDIT', '*NONE', 'PREV_OBJECT_AUDIT', '*ALL', 'CHGUSRAUD_USER_PROFILE', u),
                'QSECOFR', NULL, 'QPADEV0008', system_name);
        ELSE
            PERFORM lab.add_audit('PA', ts, jsonb_build_object('ENTRY_TYPE', 'A', 'OBJECT_LIBRARY', 'PAYROLL',
                'OBJECT_NAME', 'PAYCALC', 'OBJECT_TYPE', '*PGM', 'OBJECT_OWNER', 'QSECOFR'),
                'OPSADM', NULL, 'QPADEV0009', system_name);
        END IF;
    END LOOP;
    RETURN n;
END
$$;
"#;

/// The whole generated file.
pub fn types_sql() -> String {
    let mut out = String::from(PREAMBLE);
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        let key = spec.key();
        out.push_str(&format!(
            "\n-- SYSTOOLS.{} ({} {}): turned on by {}.\nCREATE TYPE lab.{}_row AS (\n",
            spec.function,
            spec.code,
            spec.name,
            spec.qaudlvl,
            spec.function.to_lowercase()
        ));
        let mut fields: Vec<String> = HEADER
            .iter()
            .map(|(name, sql, _)| format!("    \"{name}\" {sql}"))
            .collect();
        fields.extend(spec.columns.iter().map(|column| {
            format!(
                "    \"{}\" {}",
                column.name,
                sql_type(spec, column.name, column.kind)
            )
        }));
        out.push_str(&fields.join(",\n"));
        out.push_str("\n);\n");
        let mut select: Vec<String> = HEADER
            .iter()
            .map(|(_, sql, value)| format!("        CAST({value} AS {sql})"))
            .collect();
        select.extend(spec.columns.iter().map(|column| {
            format!(
                "        (e.details ->> '{}')::{}",
                column.name,
                sql_type(spec, column.name, column.kind)
            )
        }));
        out.push_str(&format!(
            r#"CREATE FUNCTION systools.{function}(
    starting_receiver_library varchar   DEFAULT NULL,
    starting_receiver_name    varchar   DEFAULT '*CURAVLCHN',
    ending_receiver_library   varchar   DEFAULT NULL,
    ending_receiver_name      varchar   DEFAULT '*CURRENT',
    starting_timestamp        timestamp DEFAULT NULL,
    ending_timestamp          timestamp DEFAULT NULL,
    user_name                 varchar   DEFAULT NULL,
    job                       varchar   DEFAULT NULL,
    program                   varchar   DEFAULT NULL,
    starting_sequence         numeric   DEFAULT NULL,
    ending_sequence           numeric   DEFAULT NULL)
RETURNS SETOF lab.{lower}_row
LANGUAGE plpgsql STABLE AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
        ending_receiver_library, ending_receiver_name, starting_timestamp, starting_sequence,
        ending_sequence);
    -- As DISPLAY_JOURNAL under the real function, every entry of the range is
    -- read, whatever its type: the JS entries too.
    PERFORM count(*) FROM lab.entries AS j
    WHERE (j.receiver_ordinal, j."SEQUENCE_NUMBER") >= (b.start_ordinal, b.start_sequence)
      AND (j.receiver_ordinal, j."SEQUENCE_NUMBER") <= (b.end_ordinal, b.end_sequence);
    RETURN QUERY
    SELECT
{select}
    FROM lab.typed_entries AS e
    WHERE e.audit_type = '{code}'
      AND (e.receiver_ordinal, e."SEQUENCE_NUMBER") >= (b.start_ordinal, b.start_sequence)
      AND (e.receiver_ordinal, e."SEQUENCE_NUMBER") <= (b.end_ordinal, b.end_sequence)
      AND (starting_timestamp IS NULL OR e."ENTRY_TIMESTAMP" >= starting_timestamp)
      AND (ending_timestamp IS NULL OR e."ENTRY_TIMESTAMP" <= ending_timestamp)
      AND (user_name IS NULL OR e."USER_NAME" = upper(btrim(user_name)))
      AND (job IS NULL OR e."QUALIFIED_JOB_NAME" = upper(btrim(job)))
      AND (program IS NULL OR e."PROGRAM_NAME" = upper(btrim(program)))
    ORDER BY e.receiver_ordinal, e."SEQUENCE_NUMBER";
END
$$;
"#,
            function = spec.function.to_lowercase(),
            lower = spec.function.to_lowercase(),
            code = spec.code,
            select = select.join(",\n"),
        ));
        let _ = key;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lab_types_sql_is_generated_from_the_catalog() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/lab/types.sql");
        let generated = super::types_sql();
        if std::env::var_os("AUDITFWD_UPDATE_LAB").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} differs from the catalog; rewrite it with AUDITFWD_UPDATE_LAB=1 cargo test --lib lab_sql"
        );
    }
}
