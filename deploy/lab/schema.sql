-- auditfwd lab: turns a PostgreSQL database into a stand-in for the IBM i services
-- auditfwd reads. See README.md next to this file.
--
--   lab.receivers, lab.entries          storage (the journal QSYS/QAUDJRN, JS entries only)
--   qsys2.journal_receiver_info         view, IBM's column names
--   systools.audit_journal_js(...)      table function, IBM's parameter and column names;
--                                       materializes its result like one (see below)
--   lab.attach_receiver, lab.add_entry, lab.delete_receiver, lab.generate, lab.reset
--
-- Column names are quoted upper case ("SEQUENCE_NUMBER"), as Db2 for i reports them;
-- parameter and object names are lower case, which unquoted upper-case SQL folds to.
-- Re-running this file drops and recreates the three schemas (and their data).

SET client_min_messages = warning;

DROP SCHEMA IF EXISTS systools CASCADE;
DROP SCHEMA IF EXISTS qsys2 CASCADE;
DROP SCHEMA IF EXISTS lab CASCADE;
CREATE SCHEMA lab;
CREATE SCHEMA qsys2;
CREATE SCHEMA systools;

COMMENT ON SCHEMA lab IS 'auditfwd lab: storage and helpers behind the IBM i stand-ins';

-- ---------------------------------------------------------------------------
-- One AUDIT_JOURNAL_JS row, in IBM's column order: the common audit journal header,
-- then the JS columns. Name and profile columns are CHAR(n) so they come back
-- blank-padded, like Db2 for i without TRIMCHAR. A composite type (not RETURNS
-- TABLE) so the function's result keeps the lengths (char(10), numeric(21,0)).
-- ---------------------------------------------------------------------------
CREATE TYPE lab.audit_journal_js_row AS (
    -- common header
    "ENTRY_TIMESTAMP"              timestamp(6) without time zone,
    "SEQUENCE_NUMBER"              numeric(21, 0),
    "USER_NAME"                    char(10),
    "QUALIFIED_JOB_NAME"           varchar(28),
    "JOB_NAME"                     char(10),
    "JOB_USER"                     char(10),
    "JOB_NUMBER"                   char(6),
    "THREAD"                       bigint,
    "PROGRAM_LIBRARY"              char(10),
    "PROGRAM_NAME"                 char(10),
    "PROGRAM_LIBRARY_ASP_DEVICE"   char(10),
    "PROGRAM_LIBRARY_ASP_NUMBER"   integer,
    "REMOTE_PORT"                  integer,
    "REMOTE_ADDRESS"               varchar(46),
    "SYSTEM_NAME"                  varchar(8),
    "SYSTEM_SEQUENCE_NUMBER"       numeric(21, 0),
    "RECEIVER_LIBRARY"             char(10),
    "RECEIVER_NAME"                char(10),
    "RECEIVER_ASP_DEVICE"          char(10),
    "RECEIVER_ASP_NUMBER"          integer,
    "ARM_NUMBER"                   integer,
    -- JS entry
    "ENTRY_TYPE"                   char(1),
    "ENTRY_TYPE_DETAIL"            varchar(200),
    "JOB_TYPE"                     varchar(3),
    "JOB_TYPE_BASIC"               char(1),
    "JOB_SUBTYPE"                  char(1),
    "TARGET_QUALIFIED_JOB_NAME"    varchar(28),
    "TARGET_JOB_NAME"              char(10),
    "TARGET_JOB_USER"              char(10),
    "TARGET_JOB_NUMBER"            char(6),
    "DEVICE_NAME"                  char(10),
    "EFFECTIVE_USER_PROFILE"       char(10),
    "EFFECTIVE_GROUP_PROFILE"      char(10),
    "SUPPLEMENTAL_GROUP_PROFILES"  varchar(150),
    "REAL_USER_PROFILE"            char(10),
    "SAVED_USER_PROFILE"           char(10),
    "REAL_GROUP_PROFILE"           char(10),
    "SAVED_GROUP_PROFILE"          char(10)
);

-- ---------------------------------------------------------------------------
-- Storage. UNLOGGED: a lab, fast bulk loads; a clean stop keeps the data, a crash
-- empties both tables together.
-- ---------------------------------------------------------------------------
CREATE UNLOGGED TABLE lab.receivers (
    -- Chain order: a receiver attached later has a larger ordinal.
    receiver_ordinal           bigint PRIMARY KEY,
    receiver_library           varchar(10) NOT NULL,
    receiver_name              varchar(10) NOT NULL,
    journal_library            varchar(10) NOT NULL DEFAULT 'QSYS',
    journal_name               varchar(10) NOT NULL DEFAULT 'QAUDJRN',
    attach_timestamp           timestamp(6) NOT NULL,
    detach_timestamp           timestamp(6),
    -- IBM's STATUS values: ATTACHED; ONLINE (detached); SAVED (detached, saved,
    -- still on the system); FREED (saved with its storage freed: listed, not
    -- readable); PARTIAL (restored from a save taken while it was attached).
    status                     varchar(8) NOT NULL CHECK (status IN ('ATTACHED', 'ONLINE', 'SAVED', 'FREED', 'PARTIAL')),
    -- Attached with CHGJRN SEQOPT(*RESET): its sequence numbers restarted at 1.
    sequence_reset             boolean NOT NULL DEFAULT false,
    first_sequence_number      numeric(21, 0) NOT NULL,
    -- The highest sequence number in the receiver; first - 1 while it is empty.
    last_sequence_number       numeric(21, 0) NOT NULL,
    -- The latest ENTRY_TIMESTAMP in the receiver (NULL while empty), so a call with
    -- STARTING_TIMESTAMP skips receivers that end before it.
    max_entry_timestamp        timestamp(6),
    previous_receiver_library  varchar(10),
    previous_receiver_name     varchar(10),
    next_receiver_library      varchar(10),
    next_receiver_name         varchar(10),
    UNIQUE (receiver_library, receiver_name),
    CHECK ((status = 'ATTACHED') = (detach_timestamp IS NULL))
);
-- At most one attached receiver.
CREATE UNIQUE INDEX receivers_one_attached ON lab.receivers (status) WHERE status = 'ATTACHED';

CREATE UNLOGGED TABLE lab.entries (
    LIKE lab.audit_journal_js_row,
    receiver_ordinal bigint NOT NULL,
    PRIMARY KEY (receiver_ordinal, "SEQUENCE_NUMBER")
)
-- No parallel scans: a Parallel Append could interleave the table function's branches.
WITH (parallel_workers = 0);
COMMENT ON TABLE lab.entries IS 'JS entries of QSYS/QAUDJRN; journal order is (receiver_ordinal, SEQUENCE_NUMBER)';

-- ---------------------------------------------------------------------------
-- Small pure helpers.
-- ---------------------------------------------------------------------------
CREATE FUNCTION lab.js_entry_type_detail(entry_type text) RETURNS varchar(200)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE entry_type
        WHEN 'A' THEN 'ENDJOBABN command'
        WHEN 'B' THEN 'Submit'
        WHEN 'C' THEN 'Change'
        WHEN 'E' THEN 'End'
        WHEN 'H' THEN 'Hold'
        WHEN 'I' THEN 'Disconnect'
        WHEN 'J' THEN 'The current job is attempting to interrupt another job'
        WHEN 'K' THEN 'The current job is about to be interrupted'
        WHEN 'L' THEN 'The interruption of the current job has completed'
        WHEN 'M' THEN 'Change profile or group profile'
        WHEN 'N' THEN 'ENDJOB command'
        WHEN 'P' THEN 'Attach prestart or batch immediate job'
        WHEN 'Q' THEN 'Change query attributes'
        WHEN 'R' THEN 'Release'
        WHEN 'S' THEN 'Start'
        WHEN 'T' THEN 'Change profile or group profile using a profile token'
        WHEN 'U' THEN 'CHGUSRTRC'
        WHEN 'V' THEN 'Virtual device changed by QWSACCDS API'
    END::varchar(200)
$$;

CREATE FUNCTION lab.job_type_basic(job_type text) RETURNS char(1)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE job_type
        WHEN 'ASJ' THEN 'A' WHEN 'INT' THEN 'I' WHEN 'RDR' THEN 'R' WHEN 'SBS' THEN 'M'
        WHEN 'SYS' THEN 'S' WHEN 'WTR' THEN 'W'
        WHEN 'BCH' THEN 'B' WHEN 'BCI' THEN 'B' WHEN 'EVK' THEN 'B' WHEN 'M36' THEN 'B'
        WHEN 'MRT' THEN 'B' WHEN 'PDJ' THEN 'B' WHEN 'PJ' THEN 'B'
    END::char(1)
$$;

CREATE FUNCTION lab.job_subtype(job_type text) RETURNS char(1)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE job_type
        WHEN 'BCI' THEN 'D' WHEN 'EVK' THEN 'E' WHEN 'MRT' THEN 'T' WHEN 'PDJ' THEN 'P'
        WHEN 'PJ' THEN 'J'
    END::char(1)
$$;

-- The program that deposited the entry (cosmetic): the set-profile API for swaps,
-- the prestart program (same name as the job) for host servers, else QCMD.
CREATE FUNCTION lab.entry_program(entry_type text, job_type text, job_name text) RETURNS char(10)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN entry_type IN ('M', 'T') THEN 'QWTSETP'
        WHEN job_type = 'PJ' THEN job_name
        ELSE 'QCMD'
    END::char(10)
$$;

CREATE FUNCTION lab.qualified_job_name(job_number text, job_user text, job_name text) RETURNS varchar(28)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (rtrim(job_number) || '/' || rtrim(job_user) || '/' || rtrim(job_name))::varchar(28)
$$;

-- Upper-cased, trimmed IBM object name; NULL for NULL or blank.
CREATE FUNCTION lab.object_name(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(upper(btrim(value)), '')
$$;

-- ---------------------------------------------------------------------------
-- QSYS2.JOURNAL_RECEIVER_INFO (the columns auditfwd uses).
-- ---------------------------------------------------------------------------
-- Materialized and counted like the table function (pg_stat_user_functions).
CREATE FUNCTION lab.journal_receiver_info()
RETURNS TABLE ("JOURNAL_RECEIVER_LIBRARY" varchar(10), "JOURNAL_RECEIVER_NAME" varchar(10),
               "JOURNAL_LIBRARY" varchar(10), "JOURNAL_NAME" varchar(10),
               "ATTACH_TIMESTAMP" timestamp(6), "DETACH_TIMESTAMP" timestamp(6),
               "STATUS" varchar(8), "FIRST_SEQUENCE_NUMBER" numeric(21, 0),
               "LAST_SEQUENCE_NUMBER" numeric(21, 0),
               "PREVIOUS_JOURNAL_RECEIVER_LIBRARY" varchar(10), "PREVIOUS_JOURNAL_RECEIVER" varchar(10),
               "NEXT_JOURNAL_RECEIVER_LIBRARY" varchar(10), "NEXT_JOURNAL_RECEIVER" varchar(10))
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
SELECT
    r.receiver_library          AS "JOURNAL_RECEIVER_LIBRARY",
    r.receiver_name             AS "JOURNAL_RECEIVER_NAME",
    r.journal_library           AS "JOURNAL_LIBRARY",
    r.journal_name              AS "JOURNAL_NAME",
    r.attach_timestamp          AS "ATTACH_TIMESTAMP",
    r.detach_timestamp          AS "DETACH_TIMESTAMP",
    r.status                    AS "STATUS",
    r.first_sequence_number     AS "FIRST_SEQUENCE_NUMBER",
    r.last_sequence_number      AS "LAST_SEQUENCE_NUMBER",
    r.previous_receiver_library AS "PREVIOUS_JOURNAL_RECEIVER_LIBRARY",
    r.previous_receiver_name    AS "PREVIOUS_JOURNAL_RECEIVER",
    r.next_receiver_library     AS "NEXT_JOURNAL_RECEIVER_LIBRARY",
    r.next_receiver_name        AS "NEXT_JOURNAL_RECEIVER"
FROM lab.receivers AS r
ORDER BY r.receiver_ordinal;
END
$$;

CREATE VIEW qsys2.journal_receiver_info AS
SELECT * FROM lab.journal_receiver_info();

-- ---------------------------------------------------------------------------
-- Receiver resolution for the table function.
-- ---------------------------------------------------------------------------

-- The ordinal of a receiver named by one of the function's receiver parameters.
-- Returns NULL only when the journal has no receiver at all.
CREATE FUNCTION lab.resolve_receiver(receiver_library text, receiver_name text, parameter_name text)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    wanted_name    text := lab.object_name(receiver_name);
    wanted_library text := lab.object_name(receiver_library);
    found_ordinal  bigint;
    matches        integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM lab.receivers) THEN
        RETURN NULL;
    END IF;
    IF wanted_library IN ('*LIBL', '*CURLIB', '*ALL') THEN
        wanted_library := NULL;
    END IF;

    IF wanted_name IN ('*CURAVLCHN', '*CURCHAIN', '*CURSEQCHN') AND parameter_name <> 'STARTING_RECEIVER_NAME' THEN
        RAISE EXCEPTION 'Value % not valid for parameter %.', wanted_name, parameter_name
            USING ERRCODE = '22023', HINT = 'Only *CURRENT or a receiver name is valid for an ending receiver.';
    END IF;

    CASE wanted_name
    WHEN '*CURAVLCHN', '*CURCHAIN' THEN
        -- The lab keeps one unbroken chain (delete_receiver relinks it), so the oldest
        -- receiver still present starts the current chain.
        SELECT min(r.receiver_ordinal) INTO found_ordinal FROM lab.receivers AS r;
    WHEN '*CURSEQCHN' THEN
        -- The current chain without crossing a sequence reset.
        SELECT coalesce(
            (SELECT max(r.receiver_ordinal) FROM lab.receivers AS r WHERE r.sequence_reset),
            (SELECT min(r.receiver_ordinal) FROM lab.receivers AS r))
        INTO found_ordinal;
        SELECT min(r.receiver_ordinal) INTO found_ordinal
        FROM lab.receivers AS r WHERE r.receiver_ordinal >= found_ordinal;
    WHEN '*CURRENT' THEN
        SELECT r.receiver_ordinal INTO found_ordinal FROM lab.receivers AS r WHERE r.status = 'ATTACHED';
    ELSE
        IF wanted_name IS NULL OR wanted_name LIKE '*%' THEN
            RAISE EXCEPTION 'Value % not valid for parameter %.', coalesce(receiver_name, 'NULL'), parameter_name
                USING ERRCODE = '22023';
        END IF;
        SELECT max(r.receiver_ordinal), count(*) INTO found_ordinal, matches
        FROM lab.receivers AS r
        WHERE r.receiver_name = wanted_name
          AND (wanted_library IS NULL OR r.receiver_library = wanted_library);
        IF matches = 0 THEN
            -- Db2 for i: SQL0204, "name in library type *JRNRCV not found."
            RAISE EXCEPTION '% in % type *JRNRCV not found.', wanted_name, coalesce(wanted_library, '*LIBL')
                USING ERRCODE = '42704',
                      DETAIL = format('Journal receiver %s/%s does not exist (deleted, or never attached).',
                                      coalesce(wanted_library, '*LIBL'), wanted_name);
        END IF;
    END CASE;
    RETURN found_ordinal;
END
$$;

-- Knobs that play what the lab cannot measure: 'optimizer_estimate_seconds', the
-- Db2 for i optimizer's estimate for one call (unset: never over the governor).
CREATE TABLE lab.settings (
    name  text PRIMARY KEY,
    value numeric
);

CREATE FUNCTION lab.set_optimizer_estimate(seconds numeric) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO lab.settings VALUES ('optimizer_estimate_seconds', seconds)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value
$$;

-- 'cost_per_row_us': extra CPU time each journal function (AUDIT_JOURNAL_JS here,
-- and every AUDIT_JOURNAL_xx of types.sql) spends per row it returns, in
-- microseconds (unset: none). A real materializing AUDIT_JOURNAL_JS
-- costs about 10x what the lab's does per row (psql COPY of it: ~42,000 rows/s),
-- which hides the client's own cost; ~20 plays that.
CREATE FUNCTION lab.set_cost_per_row(microseconds numeric) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO lab.settings VALUES ('cost_per_row_us', microseconds)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value
$$;

-- Spends the per-row cost of `rows` rows returned by one call, on the CPU (a
-- busy loop on the clock, so it costs the same on any machine).
CREATE FUNCTION lab.spend_row_cost(rows bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    per_row  numeric;
    deadline timestamptz;
BEGIN
    SELECT value INTO per_row FROM lab.settings WHERE name = 'cost_per_row_us';
    IF coalesce(per_row, 0) <= 0 OR rows <= 0 THEN
        RETURN;
    END IF;
    deadline := clock_timestamp() + make_interval(secs => rows * per_row / 1000000);
    WHILE clock_timestamp() < deadline LOOP
    END LOOP;
END
$$;

-- Entries the server cannot convert for the client (on IBM i, a character
-- conversion failure, SQLSTATE 22021): a call whose range covers one fails.
CREATE TABLE lab.unconvertible (
    receiver_name text NOT NULL,
    sequence      numeric NOT NULL,
    PRIMARY KEY (receiver_name, sequence)
);

CREATE FUNCTION lab.make_unconvertible(receiver_name text, sequence numeric) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO lab.unconvertible VALUES (upper(btrim(receiver_name)), sequence) ON CONFLICT DO NOTHING
$$;

-- SAVRCV STG(*FREE): the receiver stays listed with STATUS 'FREED'; its entries
-- can no longer be read. 'NAME' or 'LIBRARY/NAME'.
CREATE FUNCTION lab.free_receiver(name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    wanted_library text;
    wanted_name    text;
BEGIN
    IF position('/' IN name) > 0 THEN
        wanted_library := lab.object_name(split_part(name, '/', 1));
        wanted_name := lab.object_name(split_part(name, '/', 2));
    ELSE
        wanted_name := lab.object_name(name);
    END IF;
    UPDATE lab.receivers AS r SET status = 'FREED'
    WHERE r.receiver_name = wanted_name AND (wanted_library IS NULL OR r.receiver_library = wanted_library)
      AND r.status <> 'ATTACHED';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no detached receiver % to free', name USING ERRCODE = '42704';
    END IF;
END
$$;

-- Where a call of the table function starts and ends, as two (receiver ordinal,
-- sequence) bounds of the primary key, inclusive. Raises IBM's errors.
CREATE FUNCTION lab.journal_bounds(
    starting_receiver_library text,
    starting_receiver_name    text,
    ending_receiver_library   text,
    ending_receiver_name      text,
    starting_timestamp        timestamp,
    starting_sequence         numeric,
    ending_sequence           numeric,
    OUT start_ordinal  bigint,
    OUT start_sequence numeric,
    OUT end_ordinal    bigint,
    OUT end_sequence   numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    freed_library text;
    freed_name    text;
    estimate      numeric;
    limit_ms      numeric;
    bad_sequence  numeric;
BEGIN
    IF starting_timestamp IS NOT NULL AND starting_sequence IS NOT NULL THEN
        RAISE EXCEPTION 'A value cannot be specified for both STARTING_TIMESTAMP and STARTING_SEQUENCE.'
            USING ERRCODE = '428C2';
    END IF;
    start_ordinal := lab.resolve_receiver(starting_receiver_library,
                                          coalesce(starting_receiver_name, '*CURAVLCHN'),
                                          'STARTING_RECEIVER_NAME');
    end_ordinal := lab.resolve_receiver(ending_receiver_library,
                                        coalesce(ending_receiver_name, '*CURRENT'),
                                        'ENDING_RECEIVER_NAME');
    -- No journal receiver at all: an empty range.
    start_ordinal := coalesce(start_ordinal, 1);
    end_ordinal := coalesce(end_ordinal, 0);
    IF starting_timestamp IS NOT NULL THEN
        -- Skip receivers whose entries all precede the starting timestamp (exact:
        -- max_entry_timestamp is maintained, whatever order the timestamps are in).
        start_ordinal := coalesce(
            (SELECT min(r.receiver_ordinal) FROM lab.receivers AS r
             WHERE r.receiver_ordinal BETWEEN start_ordinal AND end_ordinal
               AND r.max_entry_timestamp >= starting_timestamp),
            end_ordinal + 1);
    END IF;
    start_sequence := coalesce(starting_sequence, -1);
    end_sequence := coalesce(ending_sequence, 999999999999999999999);
    -- A receiver saved with its storage freed stays in JOURNAL_RECEIVER_INFO, but
    -- its entries are gone from the system: a call whose range covers it fails.
    -- (The exact message on IBM i was not verified; the failure is.)
    SELECT r.receiver_library, r.receiver_name INTO freed_library, freed_name
    FROM lab.receivers AS r
    WHERE r.receiver_ordinal BETWEEN start_ordinal AND end_ordinal AND r.status = 'FREED'
    ORDER BY r.receiver_ordinal LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'Journal receiver %/% not available: its storage was freed.', freed_library, freed_name
            USING ERRCODE = '58004';
    END IF;
    SELECT u.sequence INTO bad_sequence
    FROM lab.unconvertible AS u
    JOIN lab.receivers AS r ON r.receiver_name = u.receiver_name
    WHERE (r.receiver_ordinal, u.sequence) >= (start_ordinal, start_sequence)
      AND (r.receiver_ordinal, u.sequence) <= (end_ordinal, end_sequence)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'Character conversion between CCSID 37 and CCSID 1208 not valid (entry %).', bad_sequence
            USING ERRCODE = '22021';
    END IF;
    -- The Db2 for i query governor: a statement's query timeout is the limit, and
    -- the optimizer's estimate for the call is compared with it before the call
    -- runs (SQL0666, SQLSTATE 57005); it never interrupts a running call.
    -- psqlODBC turns SQL_ATTR_QUERY_TIMEOUT into SET statement_timeout.
    SELECT value INTO estimate FROM lab.settings WHERE name = 'optimizer_estimate_seconds';
    limit_ms := nullif(regexp_replace(current_setting('statement_timeout'), '[^0-9]', '', 'g'), '')::numeric;
    IF current_setting('statement_timeout') ~ '^[0-9]+s$' THEN
        limit_ms := limit_ms * 1000;
    END IF;
    IF estimate IS NOT NULL AND coalesce(limit_ms, 0) > 0 AND estimate * 1000 > limit_ms THEN
        RAISE EXCEPTION 'SQL0666 Estimated query processing time % exceeds limit %.', estimate, round(limit_ms / 1000)
            USING ERRCODE = '57005';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- lab.audit_journal_js_inlined: the old, too kind stand-in, kept only to show the
-- difference (no test or bench uses it). It is inlined into the caller, so LIMIT
-- stops early, which no table function on IBM i does.
--
-- Rows come back in journal order (chain order, then sequence), and a bounded read
-- streams from the primary key instead of materialising the chain. The function is
-- LANGUAGE sql, STABLE, with no SET clause, so PostgreSQL inlines it into the
-- calling query. Its body is a UNION ALL of two ordered branches. A one-time filter
-- switches off the branch that does not apply:
--   * one receiver (what auditfwd does per read): the receiver is fixed by equality,
--     so the branch is ordered by SEQUENCE_NUMBER alone. A caller's
--     "ORDER BY SEQUENCE_NUMBER FETCH FIRST n ROWS ONLY" then runs as a Merge Append
--     over a primary-key range scan that stops after n rows, with no sort;
--   * several receivers (or none): bounded by (receiver, sequence) row comparisons,
--     ordered by receiver, then sequence.
-- lab.journal_bounds resolves the receivers and raises IBM's errors; it runs once
-- per InitPlan (a few index probes each).
-- ---------------------------------------------------------------------------
CREATE FUNCTION lab.audit_journal_js_inlined(
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
LANGUAGE sql STABLE AS $$
    (   -- One receiver.
        SELECT
            e."ENTRY_TIMESTAMP", e."SEQUENCE_NUMBER", e."USER_NAME", e."QUALIFIED_JOB_NAME",
            e."JOB_NAME", e."JOB_USER", e."JOB_NUMBER", e."THREAD", e."PROGRAM_LIBRARY",
            e."PROGRAM_NAME", e."PROGRAM_LIBRARY_ASP_DEVICE", e."PROGRAM_LIBRARY_ASP_NUMBER",
            e."REMOTE_PORT", e."REMOTE_ADDRESS", e."SYSTEM_NAME", e."SYSTEM_SEQUENCE_NUMBER",
            e."RECEIVER_LIBRARY", e."RECEIVER_NAME", e."RECEIVER_ASP_DEVICE",
            e."RECEIVER_ASP_NUMBER", e."ARM_NUMBER", e."ENTRY_TYPE", e."ENTRY_TYPE_DETAIL",
            e."JOB_TYPE", e."JOB_TYPE_BASIC", e."JOB_SUBTYPE", e."TARGET_QUALIFIED_JOB_NAME",
            e."TARGET_JOB_NAME", e."TARGET_JOB_USER", e."TARGET_JOB_NUMBER", e."DEVICE_NAME",
            e."EFFECTIVE_USER_PROFILE", e."EFFECTIVE_GROUP_PROFILE",
            e."SUPPLEMENTAL_GROUP_PROFILES", e."REAL_USER_PROFILE", e."SAVED_USER_PROFILE",
            e."REAL_GROUP_PROFILE", e."SAVED_GROUP_PROFILE"
        FROM lab.entries AS e
        WHERE (SELECT b.start_ordinal = b.end_ordinal
               FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                       ending_receiver_library, ending_receiver_name,
                                       starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND e.receiver_ordinal
              = (SELECT b.start_ordinal
                 FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                         ending_receiver_library, ending_receiver_name,
                                         starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND e."SEQUENCE_NUMBER"
              >= (SELECT b.start_sequence
                  FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                          ending_receiver_library, ending_receiver_name,
                                          starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND e."SEQUENCE_NUMBER"
              <= (SELECT b.end_sequence
                  FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                          ending_receiver_library, ending_receiver_name,
                                          starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND (starting_timestamp IS NULL OR e."ENTRY_TIMESTAMP" >= starting_timestamp)
          AND (ending_timestamp IS NULL OR e."ENTRY_TIMESTAMP" <= ending_timestamp)
          AND (user_name IS NULL OR e."USER_NAME" = upper(btrim(user_name)))
          AND (job IS NULL OR e."QUALIFIED_JOB_NAME" = upper(btrim(job)))
          AND (program IS NULL OR e."PROGRAM_NAME" = upper(btrim(program)))
        ORDER BY e."SEQUENCE_NUMBER"
    )
    UNION ALL
    (   -- Several receivers, or none.
        SELECT
            e."ENTRY_TIMESTAMP", e."SEQUENCE_NUMBER", e."USER_NAME", e."QUALIFIED_JOB_NAME",
            e."JOB_NAME", e."JOB_USER", e."JOB_NUMBER", e."THREAD", e."PROGRAM_LIBRARY",
            e."PROGRAM_NAME", e."PROGRAM_LIBRARY_ASP_DEVICE", e."PROGRAM_LIBRARY_ASP_NUMBER",
            e."REMOTE_PORT", e."REMOTE_ADDRESS", e."SYSTEM_NAME", e."SYSTEM_SEQUENCE_NUMBER",
            e."RECEIVER_LIBRARY", e."RECEIVER_NAME", e."RECEIVER_ASP_DEVICE",
            e."RECEIVER_ASP_NUMBER", e."ARM_NUMBER", e."ENTRY_TYPE", e."ENTRY_TYPE_DETAIL",
            e."JOB_TYPE", e."JOB_TYPE_BASIC", e."JOB_SUBTYPE", e."TARGET_QUALIFIED_JOB_NAME",
            e."TARGET_JOB_NAME", e."TARGET_JOB_USER", e."TARGET_JOB_NUMBER", e."DEVICE_NAME",
            e."EFFECTIVE_USER_PROFILE", e."EFFECTIVE_GROUP_PROFILE",
            e."SUPPLEMENTAL_GROUP_PROFILES", e."REAL_USER_PROFILE", e."SAVED_USER_PROFILE",
            e."REAL_GROUP_PROFILE", e."SAVED_GROUP_PROFILE"
        FROM lab.entries AS e
        WHERE (SELECT b.start_ordinal <> b.end_ordinal
               FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                       ending_receiver_library, ending_receiver_name,
                                       starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND (e.receiver_ordinal, e."SEQUENCE_NUMBER")
              >= (SELECT b.start_ordinal, b.start_sequence
                  FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                          ending_receiver_library, ending_receiver_name,
                                          starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND (e.receiver_ordinal, e."SEQUENCE_NUMBER")
              <= (SELECT b.end_ordinal, b.end_sequence
                  FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
                                          ending_receiver_library, ending_receiver_name,
                                          starting_timestamp, starting_sequence, ending_sequence) AS b)
          AND (starting_timestamp IS NULL OR e."ENTRY_TIMESTAMP" >= starting_timestamp)
          AND (ending_timestamp IS NULL OR e."ENTRY_TIMESTAMP" <= ending_timestamp)
          AND (user_name IS NULL OR e."USER_NAME" = upper(btrim(user_name)))
          AND (job IS NULL OR e."QUALIFIED_JOB_NAME" = upper(btrim(job)))
          AND (program IS NULL OR e."PROGRAM_NAME" = upper(btrim(program)))
        ORDER BY e.receiver_ordinal, e."SEQUENCE_NUMBER"
    )
$$;

COMMENT ON FUNCTION lab.audit_journal_js_inlined IS
    'Inlined, early-stopping variant of the stand-in: not like IBM i; kept for comparison only.';

-- ---------------------------------------------------------------------------
-- SYSTOOLS.AUDIT_JOURNAL_JS: behaves like a Db2 for i table function.
--
-- PL/pgSQL, so it is never inlined: RETURN QUERY builds the whole result of the
-- call (everything its receiver, sequence and time range covers) in a tuplestore
-- before the caller sees the first row. A caller's ORDER BY / LIMIT therefore
-- cannot stop it early, exactly as ORDER BY ... FETCH FIRST cannot on IBM i: the
-- cost of a call is the size of its range. Each call is counted in
-- pg_stat_user_functions (lab.sh sets track_functions = 'pl').
-- ---------------------------------------------------------------------------
CREATE FUNCTION systools.audit_journal_js(
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
    returned bigint;
BEGIN
    RETURN QUERY
    SELECT * FROM lab.audit_journal_js_inlined(
        starting_receiver_library, starting_receiver_name, ending_receiver_library,
        ending_receiver_name, starting_timestamp, ending_timestamp, user_name, job,
        program, starting_sequence, ending_sequence);
    GET DIAGNOSTICS returned = ROW_COUNT;
    PERFORM lab.spend_row_cost(returned);
END
$$;

COMMENT ON FUNCTION systools.audit_journal_js IS
    'Lab stand-in for IBM SYSTOOLS.AUDIT_JOURNAL_JS; call with named arguments (name => value).';

-- ---------------------------------------------------------------------------
-- Test and generator helpers.
-- ---------------------------------------------------------------------------

-- CHGJRN JRNRCV(library/name) [SEQOPT(*RESET)]: detach the attached receiver and
-- attach a new one. The first call on an empty lab only attaches.
CREATE FUNCTION lab.attach_receiver(
    name           text,
    library        text      DEFAULT 'QGPL',
    reset_sequence boolean   DEFAULT false,
    at             timestamp DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    new_name    text := lab.object_name(name);
    new_library text := lab.object_name(library);
    attach_ts   timestamp := coalesce(at, localtimestamp);
    current_rcv lab.receivers;
    new_first   numeric;
BEGIN
    IF new_name IS NULL OR length(new_name) > 10 OR new_library IS NULL OR length(new_library) > 10 THEN
        RAISE EXCEPTION 'receiver and library names must be 1 to 10 characters (got %/%)', library, name
            USING ERRCODE = '22023';
    END IF;
    LOCK TABLE lab.receivers IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM lab.receivers AS r
               WHERE r.receiver_library = new_library AND r.receiver_name = new_name) THEN
        RAISE EXCEPTION '% in % type *JRNRCV already exists.', new_name, new_library USING ERRCODE = '42710';
    END IF;

    SELECT * INTO current_rcv FROM lab.receivers AS r WHERE r.status = 'ATTACHED';
    IF FOUND THEN
        -- Without an explicit time, keep attach times in chain order. (An explicit `at`
        -- may go back, as the clock does at a DST fall-back.)
        IF at IS NULL THEN
            attach_ts := greatest(attach_ts, current_rcv.attach_timestamp + interval '1 microsecond');
        END IF;
        UPDATE lab.receivers AS r
        SET status = 'ONLINE', detach_timestamp = attach_ts,
            next_receiver_library = new_library, next_receiver_name = new_name
        WHERE r.receiver_ordinal = current_rcv.receiver_ordinal;
        new_first := CASE WHEN reset_sequence THEN 1 ELSE current_rcv.last_sequence_number + 1 END;
    ELSE
        new_first := 1;
    END IF;

    INSERT INTO lab.receivers (receiver_ordinal, receiver_library, receiver_name, attach_timestamp,
                               status, sequence_reset, first_sequence_number, last_sequence_number,
                               previous_receiver_library, previous_receiver_name)
    VALUES ((SELECT coalesce(max(r.receiver_ordinal), 0) + 1 FROM lab.receivers AS r),
            new_library, new_name, attach_ts, 'ATTACHED', coalesce(reset_sequence, false),
            new_first, new_first - 1,
            current_rcv.receiver_library, current_rcv.receiver_name);
    RETURN new_library || '/' || new_name;
END
$$;

-- Append one JS entry to the attached receiver; returns its sequence number.
-- sequence_gap > 1 models entries of other types interleaving.
CREATE FUNCTION lab.add_entry(
    entry_type     text,
    job_name       text,
    job_user       text,
    job_type       text,
    real_user      text,
    entry_ts       timestamp,
    remote_address text    DEFAULT NULL,
    remote_port    int     DEFAULT NULL,
    job_number     text    DEFAULT NULL,
    sequence_gap   int     DEFAULT 1,
    system_name    text    DEFAULT 'LABSYS')
RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    rcv        lab.receivers;
    new_seq    numeric;
    v_type     text := upper(btrim(entry_type));
    v_job      text := lab.object_name(job_name);
    v_user     text := lab.object_name(job_user);
    v_job_type text := lab.object_name(job_type);
    v_real     text := lab.object_name(real_user);
    v_number   text;
    v_qualified text;
BEGIN
    IF coalesce(sequence_gap, 0) < 1 THEN
        RAISE EXCEPTION 'sequence_gap must be at least 1 (got %)', sequence_gap USING ERRCODE = '22023';
    END IF;
    SELECT * INTO rcv FROM lab.receivers AS r WHERE r.status = 'ATTACHED' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no journal receiver is attached: call lab.attach_receiver(''AUDRCV0001'') first'
            USING ERRCODE = '55000';
    END IF;
    new_seq := rcv.last_sequence_number + sequence_gap;
    v_number := lpad(coalesce(btrim(job_number), ((new_seq % 999999) + 1)::text), 6, '0');
    v_qualified := lab.qualified_job_name(v_number, v_user, v_job);

    INSERT INTO lab.entries (
        "ENTRY_TIMESTAMP", "SEQUENCE_NUMBER", "USER_NAME", "QUALIFIED_JOB_NAME", "JOB_NAME",
        "JOB_USER", "JOB_NUMBER", "THREAD", "PROGRAM_LIBRARY", "PROGRAM_NAME",
        "PROGRAM_LIBRARY_ASP_DEVICE", "PROGRAM_LIBRARY_ASP_NUMBER", "REMOTE_PORT", "REMOTE_ADDRESS",
        "SYSTEM_NAME", "SYSTEM_SEQUENCE_NUMBER", "RECEIVER_LIBRARY", "RECEIVER_NAME",
        "RECEIVER_ASP_DEVICE", "RECEIVER_ASP_NUMBER", "ARM_NUMBER", "ENTRY_TYPE", "ENTRY_TYPE_DETAIL",
        "JOB_TYPE", "JOB_TYPE_BASIC", "JOB_SUBTYPE", "TARGET_QUALIFIED_JOB_NAME", "TARGET_JOB_NAME",
        "TARGET_JOB_USER", "TARGET_JOB_NUMBER", "DEVICE_NAME", "EFFECTIVE_USER_PROFILE",
        "EFFECTIVE_GROUP_PROFILE", "SUPPLEMENTAL_GROUP_PROFILES", "REAL_USER_PROFILE",
        "SAVED_USER_PROFILE", "REAL_GROUP_PROFILE", "SAVED_GROUP_PROFILE", receiver_ordinal)
    VALUES (
        entry_ts, new_seq, v_real, v_qualified, v_job,
        v_user, v_number, NULL, 'QSYS', lab.entry_program(v_type, v_job_type, v_job),
        '*SYSBAS', 1, remote_port, remote_address,
        upper(system_name), 5000000000 + new_seq, rcv.receiver_library, rcv.receiver_name,
        '*SYSBAS', 1, 1, v_type, lab.js_entry_type_detail(v_type),
        v_job_type, lab.job_type_basic(v_job_type), lab.job_subtype(v_job_type), v_qualified, v_job,
        v_user, v_number, CASE WHEN v_job_type = 'INT' THEN v_job END, v_real,
        '*NONE', NULL, v_real,
        v_user, '*NONE', '*NONE', rcv.receiver_ordinal);

    UPDATE lab.receivers AS r
    SET last_sequence_number = new_seq, max_entry_timestamp = greatest(r.max_entry_timestamp, entry_ts)
    WHERE r.receiver_ordinal = rcv.receiver_ordinal;
    RETURN new_seq;
END
$$;

-- DLTJRNRCV: remove a receiver ('NAME' or 'LIBRARY/NAME') and its entries, relinking
-- its neighbours. The attached receiver cannot be deleted.
CREATE FUNCTION lab.delete_receiver(name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    wanted_library text;
    wanted_name    text;
    rcv            lab.receivers;
    matches        integer;
    deleted        bigint;
BEGIN
    IF position('/' IN name) > 0 THEN
        wanted_library := lab.object_name(split_part(name, '/', 1));
        wanted_name := lab.object_name(split_part(name, '/', 2));
    ELSE
        wanted_name := lab.object_name(name);
    END IF;
    LOCK TABLE lab.receivers IN SHARE ROW EXCLUSIVE MODE;
    SELECT count(*) INTO matches FROM lab.receivers AS r
    WHERE r.receiver_name = wanted_name AND (wanted_library IS NULL OR r.receiver_library = wanted_library);
    IF matches = 0 THEN
        RAISE EXCEPTION '% in % type *JRNRCV not found.', wanted_name, coalesce(wanted_library, '*LIBL')
            USING ERRCODE = '42704';
    ELSIF matches > 1 THEN
        RAISE EXCEPTION 'receiver name % is in several libraries: say LIBRARY/%', wanted_name, wanted_name
            USING ERRCODE = '42725';
    END IF;
    SELECT * INTO rcv FROM lab.receivers AS r
    WHERE r.receiver_name = wanted_name AND (wanted_library IS NULL OR r.receiver_library = wanted_library);
    IF rcv.status = 'ATTACHED' THEN
        RAISE EXCEPTION 'Journal receiver %/% is attached and cannot be deleted.', rcv.receiver_library, rcv.receiver_name
            USING ERRCODE = '55006';
    END IF;

    DELETE FROM lab.entries AS e WHERE e.receiver_ordinal = rcv.receiver_ordinal;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    DELETE FROM lab.receivers AS r WHERE r.receiver_ordinal = rcv.receiver_ordinal;
    UPDATE lab.receivers AS r
    SET next_receiver_library = rcv.next_receiver_library, next_receiver_name = rcv.next_receiver_name
    WHERE r.next_receiver_library = rcv.receiver_library AND r.next_receiver_name = rcv.receiver_name;
    UPDATE lab.receivers AS r
    SET previous_receiver_library = rcv.previous_receiver_library, previous_receiver_name = rcv.previous_receiver_name
    WHERE r.previous_receiver_library = rcv.receiver_library AND r.previous_receiver_name = rcv.receiver_name;
    RETURN deleted;
END
$$;

-- Empty the journal: no receivers, no entries.
CREATE FUNCTION lab.reset() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE lab.entries, lab.receivers, lab.settings, lab.unconvertible;
END
$$;

-- Append n realistic JS entries, set-based (no per-row loop). Rows continue the
-- attached receiver (attaching QGPL/AUDRCV0001 on an empty lab) and roll to a new
-- receiver, QGPL/AUDRCVnnnn, every rows_per_receiver rows. Deterministic for a
-- given (state, n, seed). Timestamps advance by `step` but one row in ten repeats
-- its predecessor's; sequence numbers leave gaps of 1 to 7. Returns n.
CREATE FUNCTION lab.generate(
    n                 bigint,
    seed              int       DEFAULT 1,
    start_ts          timestamp DEFAULT '2026-04-08 08:00:00',
    step              interval  DEFAULT '10 milliseconds',
    rows_per_receiver bigint    DEFAULT 100000,
    system_name       text      DEFAULT 'LABSYS')
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    rcv          lab.receivers;
    prev         lab.receivers;
    already      bigint;
    base_seq     numeric;
    base_ts      timestamp;
    next_number  integer;
    last_k       bigint;
    k            bigint;
    new_name     text;
    first_ts     timestamp;
    v_system     text := upper(system_name);
BEGIN
    IF n IS NULL OR n < 0 OR rows_per_receiver IS NULL OR rows_per_receiver < 1 THEN
        RAISE EXCEPTION 'n must be >= 0 and rows_per_receiver >= 1' USING ERRCODE = '22023';
    END IF;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    LOCK TABLE lab.receivers IN SHARE ROW EXCLUSIVE MODE;

    SELECT coalesce(max(substr(r.receiver_name, 7)::integer), 0) + 1 INTO next_number
    FROM lab.receivers AS r
    WHERE r.receiver_library = 'QGPL' AND r.receiver_name ~ '^AUDRCV[0-9]{4}$';

    SELECT * INTO rcv FROM lab.receivers AS r WHERE r.status = 'ATTACHED';
    IF NOT FOUND THEN
        PERFORM lab.attach_receiver('AUDRCV' || lpad(next_number::text, 4, '0'), 'QGPL', false, start_ts);
        next_number := next_number + 1;
        SELECT * INTO rcv FROM lab.receivers AS r WHERE r.status = 'ATTACHED';
    END IF;

    SELECT count(*) INTO already FROM lab.entries AS e WHERE e.receiver_ordinal = rcv.receiver_ordinal;
    base_seq := rcv.last_sequence_number;
    SELECT greatest(start_ts, max(e."ENTRY_TIMESTAMP") + step) INTO base_ts
    FROM lab.entries AS e WHERE e.receiver_ordinal = rcv.receiver_ordinal;
    base_ts := coalesce(base_ts, start_ts);
    -- Index (0 = the attached one) of the receiver that gets the last row.
    last_k := (already + n - 1) / rows_per_receiver;
    IF next_number + last_k - 1 > 9999 THEN
        RAISE EXCEPTION 'receiver names would pass AUDRCV9999' USING ERRCODE = '22023';
    END IF;

    INSERT INTO lab.entries (
        "ENTRY_TIMESTAMP", "SEQUENCE_NUMBER", "USER_NAME", "QUALIFIED_JOB_NAME", "JOB_NAME",
        "JOB_USER", "JOB_NUMBER", "THREAD", "PROGRAM_LIBRARY", "PROGRAM_NAME",
        "PROGRAM_LIBRARY_ASP_DEVICE", "PROGRAM_LIBRARY_ASP_NUMBER", "REMOTE_PORT", "REMOTE_ADDRESS",
        "SYSTEM_NAME", "SYSTEM_SEQUENCE_NUMBER", "RECEIVER_LIBRARY", "RECEIVER_NAME",
        "RECEIVER_ASP_DEVICE", "RECEIVER_ASP_NUMBER", "ARM_NUMBER", "ENTRY_TYPE", "ENTRY_TYPE_DETAIL",
        "JOB_TYPE", "JOB_TYPE_BASIC", "JOB_SUBTYPE", "TARGET_QUALIFIED_JOB_NAME", "TARGET_JOB_NAME",
        "TARGET_JOB_USER", "TARGET_JOB_NUMBER", "DEVICE_NAME", "EFFECTIVE_USER_PROFILE",
        "EFFECTIVE_GROUP_PROFILE", "SUPPLEMENTAL_GROUP_PROFILES", "REAL_USER_PROFILE",
        "SAVED_USER_PROFILE", "REAL_GROUP_PROFILE", "SAVED_GROUP_PROFILE", receiver_ordinal)
    WITH raw AS (
        -- Four independent non-negative hashes per row.
        SELECT i,
               hashint8extended(i, seed) & 9223372036854775807            AS h_kind,
               hashint8extended(i, seed + 1000003) & 9223372036854775807  AS h_who,
               hashint8extended(i, seed + 2000003) & 9223372036854775807  AS h_net,
               hashint8extended(i, seed + 3000017) & 9223372036854775807  AS h_evt
        FROM generate_series(0::bigint, n - 1) AS i
    ), shaped AS (
        SELECT raw.*,
               -- What kind of job this row is about.
               CASE
                   WHEN h_kind % 100 < 40 THEN 'HOST'
                   WHEN h_kind % 100 < 60 THEN '5250'
                   WHEN h_kind % 100 < 70 THEN 'SSH'
                   WHEN h_kind % 100 < 78 THEN 'FTP'
                   WHEN h_kind % 100 < 95 THEN 'BATCH'
                   WHEN h_evt % 2 = 0 THEN 'SECOFR5250'
                   ELSE 'SECOFRHOST'
               END AS kind,
               (ARRAY['JSMITH', 'MJONES', 'APPUSR', 'ETLUSER', 'REPORTS', 'DEVUSR1', 'OPERATOR',
                      'ANALYST', 'WEBSVC', 'BKUPADM'])[1 + (h_who >> 8) % 10] AS pool_user,
               lpad((1 + (h_who >> 20) % 999999)::text, 6, '0') AS job_number,
               CASE (h_net >> 12) % 4
                   WHEN 0 THEN '192.0.2.' || (1 + (h_net >> 16) % 254)
                   WHEN 1 THEN '198.51.100.' || (1 + (h_net >> 16) % 254)
                   WHEN 2 THEN '203.0.113.' || (1 + (h_net >> 16) % 254)
                   ELSE '2001:db8::' || to_hex(1 + (h_net >> 16) % 65535)
               END AS address,
               (h_net % 100) < 8 AS no_address,
               (1024 + (h_net >> 32) % 64511)::integer AS port,
               -- Global position in the chain, counting rows already in the attached receiver.
               already + i AS g
        FROM raw
    ), jobs AS (
        SELECT s.*,
               CASE s.kind
                   WHEN 'HOST' THEN (ARRAY['QZDASOINIT', 'QZDASOINIT', 'QZDASOINIT', 'QZDASOINIT',
                                           'QZDASSINIT', 'QZDASSINIT', 'QZRCSRVS', 'QZSOSIGN',
                                           'QZSOSIGN', 'QPWFSERVSO'])[1 + s.h_who % 10]
                   WHEN 'SECOFRHOST' THEN 'QZDASOINIT'
                   WHEN '5250' THEN 'QPADEV' || lpad((1 + s.h_who % 60)::text, 4, '0')
                   WHEN 'SECOFR5250' THEN 'QPADEV' || lpad((1 + s.h_who % 60)::text, 4, '0')
                   WHEN 'SSH' THEN 'QP0ZSPWP'
                   WHEN 'FTP' THEN 'QTFTP' || lpad((s.h_who % 100000)::text, 5, '0')
                   ELSE (ARRAY['DAILYBKUP', 'PAYROLL', 'INVRPT', 'NIGHTLY', 'EODCLOSE', 'QDFTJOBD'])[1 + s.h_who % 6]
               END AS job_name,
               CASE s.kind
                   WHEN 'HOST' THEN 'PJ' WHEN 'SECOFRHOST' THEN 'PJ'
                   WHEN '5250' THEN 'INT' WHEN 'SECOFR5250' THEN 'INT'
                   WHEN 'SSH' THEN 'BCI' WHEN 'FTP' THEN 'BCI'
                   ELSE 'BCH'
               END AS job_type,
               CASE s.kind
                   WHEN 'HOST' THEN (ARRAY['P', 'M'])[1 + s.h_evt % 2]
                   WHEN 'SECOFRHOST' THEN 'M'
                   WHEN 'FTP' THEN (ARRAY['S', 'M', 'E'])[1 + s.h_evt % 3]
                   WHEN 'BATCH' THEN (ARRAY['B', 'S', 'E'])[1 + s.h_evt % 3]
                   ELSE (ARRAY['S', 'E'])[1 + (s.h_evt >> 4) % 2]
               END AS entry_type,
               CASE s.kind
                   WHEN 'HOST' THEN 'QUSER' WHEN 'SECOFRHOST' THEN 'QUSER'
                   WHEN 'FTP' THEN 'QTCP'
                   WHEN 'SECOFR5250' THEN 'QSECOFR'
                   ELSE s.pool_user
               END AS job_user
        FROM shaped AS s
    ), gen_rows AS (
        SELECT j.*,
               -- The profile the entry is about: swaps (M) put the real user in.
               CASE
                   WHEN j.kind = 'SECOFRHOST' THEN 'QSECOFR'
                   WHEN j.kind IN ('HOST', 'FTP') AND j.entry_type = 'M' THEN j.pool_user
                   ELSE j.job_user
               END AS real_user,
               CASE
                   WHEN j.kind = 'BATCH' OR j.no_address THEN NULL
                   ELSE j.address
               END AS remote_address,
               j.g / rows_per_receiver AS k,
               base_seq + 1 + 4 * j.i + j.h_evt % 4 AS seq,
               base_ts + step * ((j.i * 9) / 10) AS ts,
               lab.qualified_job_name(j.job_number, j.job_user, j.job_name) AS qualified
        FROM jobs AS j
    )
    SELECT
        r.ts, r.seq, r.real_user, r.qualified, r.job_name,
        r.job_user, r.job_number, 1000 + r.h_who % 500000, 'QSYS',
        lab.entry_program(r.entry_type, r.job_type, r.job_name),
        '*SYSBAS', 1, CASE WHEN r.remote_address IS NOT NULL THEN r.port END, r.remote_address,
        v_system, 5000000000 + r.seq,
        CASE WHEN r.k = 0 THEN rcv.receiver_library ELSE 'QGPL' END,
        CASE WHEN r.k = 0 THEN rcv.receiver_name
             ELSE 'AUDRCV' || lpad((next_number + r.k - 1)::text, 4, '0') END,
        '*SYSBAS', 1, 1 + r.h_net % 8, r.entry_type, lab.js_entry_type_detail(r.entry_type),
        r.job_type, lab.job_type_basic(r.job_type), lab.job_subtype(r.job_type),
        CASE WHEN r.entry_type = 'B'
             THEN lab.qualified_job_name(lpad((1 + (r.h_evt >> 24) % 999999)::text, 6, '0'), r.job_user, r.job_name)
             ELSE r.qualified END,
        r.job_name, r.job_user,
        CASE WHEN r.entry_type = 'B' THEN lpad((1 + (r.h_evt >> 24) % 999999)::text, 6, '0') ELSE r.job_number END,
        CASE WHEN r.job_type = 'INT' THEN r.job_name END,
        r.real_user, '*NONE', NULL, r.real_user, r.job_user, '*NONE', '*NONE',
        rcv.receiver_ordinal + r.k
    FROM gen_rows AS r;

    UPDATE lab.receivers AS r
    SET last_sequence_number = (SELECT max(e."SEQUENCE_NUMBER") FROM lab.entries AS e
                                WHERE e.receiver_ordinal = rcv.receiver_ordinal),
        max_entry_timestamp = (SELECT max(e."ENTRY_TIMESTAMP") FROM lab.entries AS e
                               WHERE e.receiver_ordinal = rcv.receiver_ordinal)
    WHERE r.receiver_ordinal = rcv.receiver_ordinal;

    -- Roll the chain: one receiver per further block of rows_per_receiver rows.
    FOR k IN 1 .. last_k LOOP
        SELECT * INTO prev FROM lab.receivers AS r WHERE r.status = 'ATTACHED';
        new_name := 'AUDRCV' || lpad((next_number + k - 1)::text, 4, '0');
        SELECT e."ENTRY_TIMESTAMP" INTO first_ts FROM lab.entries AS e
        WHERE e.receiver_ordinal = rcv.receiver_ordinal + k
        ORDER BY e."SEQUENCE_NUMBER" LIMIT 1;
        -- Attach times stay in chain order even after a manual attach "now".
        first_ts := greatest(first_ts, prev.attach_timestamp + interval '1 microsecond');
        UPDATE lab.receivers AS r
        SET status = 'ONLINE', detach_timestamp = first_ts,
            next_receiver_library = 'QGPL', next_receiver_name = new_name
        WHERE r.receiver_ordinal = prev.receiver_ordinal;
        INSERT INTO lab.receivers (receiver_ordinal, receiver_library, receiver_name, attach_timestamp,
                                   status, sequence_reset, first_sequence_number, last_sequence_number,
                                   max_entry_timestamp, previous_receiver_library, previous_receiver_name)
        VALUES (rcv.receiver_ordinal + k, 'QGPL', new_name, first_ts, 'ATTACHED', false,
                prev.last_sequence_number + 1,
                (SELECT max(e."SEQUENCE_NUMBER") FROM lab.entries AS e
                 WHERE e.receiver_ordinal = rcv.receiver_ordinal + k),
                (SELECT max(e."ENTRY_TIMESTAMP") FROM lab.entries AS e
                 WHERE e.receiver_ordinal = rcv.receiver_ordinal + k),
                prev.receiver_library, prev.receiver_name);
    END LOOP;

    ANALYZE lab.entries;
    ANALYZE lab.receivers;
    RETURN n;
END
$$;
