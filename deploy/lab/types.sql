-- deploy/lab/types.sql: the audit types besides JS (PW, CP, AF, SV, PS, GR, CA,
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

-- SYSTOOLS.AUDIT_JOURNAL_PW (PW Password): turned on by *AUTFAIL.
CREATE TYPE lab.audit_journal_pw_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "VIOLATION_TYPE" varchar(10),
    "VIOLATION_TYPE_DETAIL" varchar(200),
    "AUDIT_USER_NAME" varchar(200),
    "DEVICE_NAME" varchar(200),
    "INTERFACE_NAME" varchar(200),
    "REMOTE_LOCATION" varchar(200),
    "LOCAL_LOCATION" varchar(200),
    "NETWORK_ID" varchar(200),
    "DECRYPT_HOST_VARIABLE" varchar(200),
    "DECRYPT_OBJECT_LIBRARY" varchar(200),
    "DECRYPT_OBJECT_NAME" varchar(200),
    "DECRYPT_OBJECT_TYPE" varchar(200),
    "DECRYPT_OBJECT_ASP_NAME" varchar(200),
    "DECRYPT_OBJECT_ASP_NUMBER" integer
);
CREATE FUNCTION systools.audit_journal_pw(
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
RETURNS SETOF lab.audit_journal_pw_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'VIOLATION_TYPE')::varchar(10),
        (e.details ->> 'VIOLATION_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'AUDIT_USER_NAME')::varchar(200),
        (e.details ->> 'DEVICE_NAME')::varchar(200),
        (e.details ->> 'INTERFACE_NAME')::varchar(200),
        (e.details ->> 'REMOTE_LOCATION')::varchar(200),
        (e.details ->> 'LOCAL_LOCATION')::varchar(200),
        (e.details ->> 'NETWORK_ID')::varchar(200),
        (e.details ->> 'DECRYPT_HOST_VARIABLE')::varchar(200),
        (e.details ->> 'DECRYPT_OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'DECRYPT_OBJECT_NAME')::varchar(200),
        (e.details ->> 'DECRYPT_OBJECT_TYPE')::varchar(200),
        (e.details ->> 'DECRYPT_OBJECT_ASP_NAME')::varchar(200),
        (e.details ->> 'DECRYPT_OBJECT_ASP_NUMBER')::integer
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'PW'
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

-- SYSTOOLS.AUDIT_JOURNAL_CP (CP User profile change): turned on by *SECURITY or *SECCFG.
CREATE TYPE lab.audit_journal_cp_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "USER_PROFILE" varchar(200),
    "COMMAND_TYPE" varchar(10),
    "STATUS" varchar(200),
    "PASSWORD_CHANGED" char(1),
    "NO_PASSWORD_INDICATOR" char(1),
    "PASSWORD_EXPIRED" char(1),
    "SPECIAL_AUTHORITIES" varchar(200),
    "ALLOBJ" char(1),
    "PREVIOUS_ALLOBJ" char(1),
    "AUDIT" char(1),
    "PREVIOUS_AUDIT" char(1),
    "IOSYSCFG" char(1),
    "PREVIOUS_IOSYSCFG" char(1),
    "JOBCTL" char(1),
    "PREVIOUS_JOBCTL" char(1),
    "SAVSYS" char(1),
    "PREVIOUS_SAVSYS" char(1),
    "SECADM" char(1),
    "PREVIOUS_SECADM" char(1),
    "SERVICE" char(1),
    "PREVIOUS_SERVICE" char(1),
    "SPLCTL" char(1),
    "PREVIOUS_SPLCTL" char(1),
    "GROUP_PROFILE_NAME" varchar(200),
    "SUPPLEMENTAL_GROUP_LIST" varchar(200),
    "INITIAL_PROGRAM_LIBRARY" varchar(200),
    "INITIAL_PROGRAM" varchar(200)
);
CREATE FUNCTION systools.audit_journal_cp(
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
RETURNS SETOF lab.audit_journal_cp_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'USER_PROFILE')::varchar(200),
        (e.details ->> 'COMMAND_TYPE')::varchar(10),
        (e.details ->> 'STATUS')::varchar(200),
        (e.details ->> 'PASSWORD_CHANGED')::char(1),
        (e.details ->> 'NO_PASSWORD_INDICATOR')::char(1),
        (e.details ->> 'PASSWORD_EXPIRED')::char(1),
        (e.details ->> 'SPECIAL_AUTHORITIES')::varchar(200),
        (e.details ->> 'ALLOBJ')::char(1),
        (e.details ->> 'PREVIOUS_ALLOBJ')::char(1),
        (e.details ->> 'AUDIT')::char(1),
        (e.details ->> 'PREVIOUS_AUDIT')::char(1),
        (e.details ->> 'IOSYSCFG')::char(1),
        (e.details ->> 'PREVIOUS_IOSYSCFG')::char(1),
        (e.details ->> 'JOBCTL')::char(1),
        (e.details ->> 'PREVIOUS_JOBCTL')::char(1),
        (e.details ->> 'SAVSYS')::char(1),
        (e.details ->> 'PREVIOUS_SAVSYS')::char(1),
        (e.details ->> 'SECADM')::char(1),
        (e.details ->> 'PREVIOUS_SECADM')::char(1),
        (e.details ->> 'SERVICE')::char(1),
        (e.details ->> 'PREVIOUS_SERVICE')::char(1),
        (e.details ->> 'SPLCTL')::char(1),
        (e.details ->> 'PREVIOUS_SPLCTL')::char(1),
        (e.details ->> 'GROUP_PROFILE_NAME')::varchar(200),
        (e.details ->> 'SUPPLEMENTAL_GROUP_LIST')::varchar(200),
        (e.details ->> 'INITIAL_PROGRAM_LIBRARY')::varchar(200),
        (e.details ->> 'INITIAL_PROGRAM')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'CP'
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

-- SYSTOOLS.AUDIT_JOURNAL_AF (AF Authority failure): turned on by *AUTFAIL.
CREATE TYPE lab.audit_journal_af_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "VIOLATION_TYPE" varchar(10),
    "VIOLATION_TYPE_DETAIL" varchar(200),
    "VALIDATION_ERROR_ACTION" varchar(200),
    "OPERATION_VIOLATION_CODE" varchar(200),
    "OBJECT_LIBRARY" varchar(200),
    "OBJECT_NAME" varchar(200),
    "OBJECT_TYPE" varchar(200),
    "PATH_NAME" varchar(1500),
    "TCPIP_PORT" integer,
    "USER_PROFILE_NAME" varchar(200)
);
CREATE FUNCTION systools.audit_journal_af(
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
RETURNS SETOF lab.audit_journal_af_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'VIOLATION_TYPE')::varchar(10),
        (e.details ->> 'VIOLATION_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'VALIDATION_ERROR_ACTION')::varchar(200),
        (e.details ->> 'OPERATION_VIOLATION_CODE')::varchar(200),
        (e.details ->> 'OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'OBJECT_NAME')::varchar(200),
        (e.details ->> 'OBJECT_TYPE')::varchar(200),
        (e.details ->> 'PATH_NAME')::varchar(1500),
        (e.details ->> 'TCPIP_PORT')::integer,
        (e.details ->> 'USER_PROFILE_NAME')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'AF'
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

-- SYSTOOLS.AUDIT_JOURNAL_SV (SV System value change): turned on by *SECCFG (or *SECURITY).
CREATE TYPE lab.audit_journal_sv_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "SYSTEM_VALUE" varchar(1500),
    "OLD_VALUE" varchar(1500),
    "NEW_VALUE" varchar(1500)
);
CREATE FUNCTION systools.audit_journal_sv(
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
RETURNS SETOF lab.audit_journal_sv_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'SYSTEM_VALUE')::varchar(1500),
        (e.details ->> 'OLD_VALUE')::varchar(1500),
        (e.details ->> 'NEW_VALUE')::varchar(1500)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'SV'
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

-- SYSTOOLS.AUDIT_JOURNAL_PS (PS Profile swap): turned on by *SECURITY or *SECRUN.
CREATE TYPE lab.audit_journal_ps_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "USER_PROFILE_NAME" varchar(200),
    "PROFILE_TOKEN_TYPE" varchar(200),
    "SOURCE_LOCATION" varchar(200),
    "PASS_THROUGH_USER_PROFILE_NAME" varchar(200),
    "EXIT_PROGRAM_USER_PROFILE_NAME" varchar(200),
    "NEGOTIATED_USER_PROFILE_NAME" varchar(200),
    "PORT_NUMBER" integer,
    "IP_ADDRESS" varchar(200),
    "DEVICE_NAME" varchar(200)
);
CREATE FUNCTION systools.audit_journal_ps(
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
RETURNS SETOF lab.audit_journal_ps_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'USER_PROFILE_NAME')::varchar(200),
        (e.details ->> 'PROFILE_TOKEN_TYPE')::varchar(200),
        (e.details ->> 'SOURCE_LOCATION')::varchar(200),
        (e.details ->> 'PASS_THROUGH_USER_PROFILE_NAME')::varchar(200),
        (e.details ->> 'EXIT_PROGRAM_USER_PROFILE_NAME')::varchar(200),
        (e.details ->> 'NEGOTIATED_USER_PROFILE_NAME')::varchar(200),
        (e.details ->> 'PORT_NUMBER')::integer,
        (e.details ->> 'IP_ADDRESS')::varchar(200),
        (e.details ->> 'DEVICE_NAME')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'PS'
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

-- SYSTOOLS.AUDIT_JOURNAL_GR (GR Registration and function usage): turned on by *SECCFG or *SECURITY.
CREATE TYPE lab.audit_journal_gr_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "ACTION" varchar(200),
    "EXIT_POINT_NAME" varchar(200),
    "EXIT_POINT_FORMAT" varchar(200),
    "EXIT_PROGRAM_LIBRARY" varchar(200),
    "EXIT_PROGRAM" varchar(200),
    "FUNCTION_NAME" varchar(200),
    "USAGE_SETTING" varchar(200),
    "PREVIOUS_USAGE" varchar(200),
    "FUNCTION_ALLOBJ" varchar(200),
    "USER_PROFILE_NAME" varchar(200)
);
CREATE FUNCTION systools.audit_journal_gr(
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
RETURNS SETOF lab.audit_journal_gr_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'ACTION')::varchar(200),
        (e.details ->> 'EXIT_POINT_NAME')::varchar(200),
        (e.details ->> 'EXIT_POINT_FORMAT')::varchar(200),
        (e.details ->> 'EXIT_PROGRAM_LIBRARY')::varchar(200),
        (e.details ->> 'EXIT_PROGRAM')::varchar(200),
        (e.details ->> 'FUNCTION_NAME')::varchar(200),
        (e.details ->> 'USAGE_SETTING')::varchar(200),
        (e.details ->> 'PREVIOUS_USAGE')::varchar(200),
        (e.details ->> 'FUNCTION_ALLOBJ')::varchar(200),
        (e.details ->> 'USER_PROFILE_NAME')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'GR'
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

-- SYSTOOLS.AUDIT_JOURNAL_CA (CA Authority change): turned on by *SECURITY or *SECRUN.
CREATE TYPE lab.audit_journal_ca_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "OBJECT_LIBRARY" varchar(200),
    "OBJECT_NAME" varchar(200),
    "OBJECT_TYPE" varchar(200),
    "OBJECT_ATTRIBUTE" varchar(200),
    "PATH_NAME" varchar(1500),
    "FIELD_NAME" varchar(200),
    "COMMAND_TYPE" varchar(10),
    "USER_PROFILE_NAME" varchar(200),
    "AUTHORIZATION_LIST" varchar(200),
    "OBJECT_AUTHORITY" varchar(200),
    "PREVIOUS_OBJECT_AUTHORITY" varchar(200)
);
CREATE FUNCTION systools.audit_journal_ca(
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
RETURNS SETOF lab.audit_journal_ca_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'OBJECT_NAME')::varchar(200),
        (e.details ->> 'OBJECT_TYPE')::varchar(200),
        (e.details ->> 'OBJECT_ATTRIBUTE')::varchar(200),
        (e.details ->> 'PATH_NAME')::varchar(1500),
        (e.details ->> 'FIELD_NAME')::varchar(200),
        (e.details ->> 'COMMAND_TYPE')::varchar(10),
        (e.details ->> 'USER_PROFILE_NAME')::varchar(200),
        (e.details ->> 'AUTHORIZATION_LIST')::varchar(200),
        (e.details ->> 'OBJECT_AUTHORITY')::varchar(200),
        (e.details ->> 'PREVIOUS_OBJECT_AUTHORITY')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'CA'
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

-- SYSTOOLS.AUDIT_JOURNAL_OW (OW Ownership change): turned on by *SECURITY or *SECRUN.
CREATE TYPE lab.audit_journal_ow_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "OBJECT_LIBRARY" varchar(200),
    "OBJECT_NAME" varchar(200),
    "OBJECT_TYPE" varchar(200),
    "PATH_NAME" varchar(1500),
    "PREVIOUS_OWNER" varchar(200),
    "NEW_OWNER" varchar(200)
);
CREATE FUNCTION systools.audit_journal_ow(
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
RETURNS SETOF lab.audit_journal_ow_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'OBJECT_NAME')::varchar(200),
        (e.details ->> 'OBJECT_TYPE')::varchar(200),
        (e.details ->> 'PATH_NAME')::varchar(1500),
        (e.details ->> 'PREVIOUS_OWNER')::varchar(200),
        (e.details ->> 'NEW_OWNER')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'OW'
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

-- SYSTOOLS.AUDIT_JOURNAL_AD (AD Auditing change): turned on by *SECURITY or *SECCFG.
CREATE TYPE lab.audit_journal_ad_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "OBJECT_LIBRARY" varchar(200),
    "OBJECT_NAME" varchar(200),
    "OBJECT_TYPE" varchar(200),
    "PATH_NAME" varchar(1500),
    "OBJECT_AUDIT" varchar(200),
    "PREV_OBJECT_AUDIT" varchar(200),
    "SCAN_ATTRIBUTE" varchar(200),
    "CHGUSRAUD_USER_PROFILE" varchar(200),
    "CHGUSRAUD_ACTION_AUDIT_LEVEL" varchar(200)
);
CREATE FUNCTION systools.audit_journal_ad(
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
RETURNS SETOF lab.audit_journal_ad_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'OBJECT_NAME')::varchar(200),
        (e.details ->> 'OBJECT_TYPE')::varchar(200),
        (e.details ->> 'PATH_NAME')::varchar(1500),
        (e.details ->> 'OBJECT_AUDIT')::varchar(200),
        (e.details ->> 'PREV_OBJECT_AUDIT')::varchar(200),
        (e.details ->> 'SCAN_ATTRIBUTE')::varchar(200),
        (e.details ->> 'CHGUSRAUD_USER_PROFILE')::varchar(200),
        (e.details ->> 'CHGUSRAUD_ACTION_AUDIT_LEVEL')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'AD'
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

-- SYSTOOLS.AUDIT_JOURNAL_PA (PA Program adopt): turned on by *PGMADP.
CREATE TYPE lab.audit_journal_pa_row AS (
    "ENTRY_TIMESTAMP" timestamp(6) without time zone,
    "SEQUENCE_NUMBER" numeric(21, 0),
    "USER_NAME" char(10),
    "QUALIFIED_JOB_NAME" varchar(28),
    "JOB_NAME" char(10),
    "JOB_USER" char(10),
    "JOB_NUMBER" char(6),
    "THREAD" bigint,
    "PROGRAM_LIBRARY" char(10),
    "PROGRAM_NAME" char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE" char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER" integer,
    "REMOTE_PORT" integer,
    "REMOTE_ADDRESS" varchar(46),
    "SYSTEM_NAME" varchar(8),
    "SYSTEM_SEQUENCE_NUMBER" numeric(21, 0),
    "RECEIVER_LIBRARY" char(10),
    "RECEIVER_NAME" char(10),
    "RECEIVER_ASP_DEVICE" char(10),
    "RECEIVER_ASP_NUMBER" integer,
    "ARM_NUMBER" integer,
    "ENTRY_TYPE" varchar(10),
    "ENTRY_TYPE_DETAIL" varchar(200),
    "OBJECT_LIBRARY" varchar(200),
    "OBJECT_NAME" varchar(200),
    "OBJECT_TYPE" varchar(200),
    "PATH_NAME" varchar(1500),
    "OBJECT_OWNER" varchar(200),
    "PRIMARY_GROUP" varchar(200)
);
CREATE FUNCTION systools.audit_journal_pa(
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
RETURNS SETOF lab.audit_journal_pa_row
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
        CAST(e."ENTRY_TIMESTAMP" AS timestamp(6) without time zone),
        CAST(e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."USER_NAME" AS char(10)),
        CAST(e."QUALIFIED_JOB_NAME" AS varchar(28)),
        CAST(e."JOB_NAME" AS char(10)),
        CAST(e."JOB_USER" AS char(10)),
        CAST(e."JOB_NUMBER" AS char(6)),
        CAST(NULL AS bigint),
        CAST(e."PROGRAM_LIBRARY" AS char(10)),
        CAST(e."PROGRAM_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(e."REMOTE_PORT" AS integer),
        CAST(e."REMOTE_ADDRESS" AS varchar(46)),
        CAST(e."SYSTEM_NAME" AS varchar(8)),
        CAST(5000000000 + e."SEQUENCE_NUMBER" AS numeric(21, 0)),
        CAST(e."RECEIVER_LIBRARY" AS char(10)),
        CAST(e."RECEIVER_NAME" AS char(10)),
        CAST('*SYSBAS' AS char(10)),
        CAST(1 AS integer),
        CAST(1 AS integer),
        (e.details ->> 'ENTRY_TYPE')::varchar(10),
        (e.details ->> 'ENTRY_TYPE_DETAIL')::varchar(200),
        (e.details ->> 'OBJECT_LIBRARY')::varchar(200),
        (e.details ->> 'OBJECT_NAME')::varchar(200),
        (e.details ->> 'OBJECT_TYPE')::varchar(200),
        (e.details ->> 'PATH_NAME')::varchar(1500),
        (e.details ->> 'OBJECT_OWNER')::varchar(200),
        (e.details ->> 'PRIMARY_GROUP')::varchar(200)
    FROM lab.typed_entries AS e
    WHERE e.audit_type = 'PA'
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
