-- deploy/lab/catalog.sql: the Db2 for i catalog views and services that
-- `auditfwd doctor` and the reader's connect-time checks read, played by the
-- lab. Loaded after types.sql. Written from IBM's documentation of each view
-- (columns and value formats), never from auditfwd's code:
--   QSYS2.SYSROUTINES, QSYS2.SYSPARMS      derived from PostgreSQL's own catalog,
--                                          so they describe the functions really here
--   QSYS2.GROUP_PROFILE_ENTRIES            group and supplemental group members
--   QSYS2.GROUP_PTF_INFO                   the Db2 for i PTF group levels
--   QSYS2.SYSTEM_VALUE_INFO                QAUDCTL, QAUDLVL, QAUDLVL2, QTIMZON, ...
-- Change them with lab.add_group_member, lab.set_system_value, lab.set_ptf_group.

-- Db2 for i's DATA_TYPE names (QSYS2.SYSCOLUMNS / SYSPARMS): CHAR, VARCHAR,
-- INTEGER, BIGINT, SMALLINT, DECIMAL, NUMERIC, TIMESTMP, BINARY, ...
CREATE FUNCTION lab.db2_data_type(type_oid oid) RETURNS varchar(8)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE type_oid
        WHEN 'varchar'::regtype THEN 'VARCHAR'
        WHEN 'bpchar'::regtype THEN 'CHAR'
        WHEN 'text'::regtype THEN 'VARCHAR'
        WHEN 'int2'::regtype THEN 'SMALLINT'
        WHEN 'int4'::regtype THEN 'INTEGER'
        WHEN 'int8'::regtype THEN 'BIGINT'
        WHEN 'numeric'::regtype THEN 'DECIMAL'
        WHEN 'timestamp'::regtype THEN 'TIMESTMP'
        WHEN 'timestamptz'::regtype THEN 'TIMESTMP'
        WHEN 'bytea'::regtype THEN 'BINARY'
        ELSE upper(format_type(type_oid, NULL))
    END::varchar(8)
$$;

CREATE FUNCTION lab.character_length(type_oid oid, type_modifier integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN type_oid IN ('varchar'::regtype, 'bpchar'::regtype) AND type_modifier > 4
                THEN type_modifier - 4 END
$$;

-- QSYS2.SYSROUTINES: one row per function of the services schemas.
CREATE VIEW qsys2.sysroutines AS
SELECT upper(n.nspname)::varchar(128) AS "ROUTINE_SCHEMA",
       upper(p.proname)::varchar(128) AS "ROUTINE_NAME",
       upper(n.nspname)::varchar(128) AS "SPECIFIC_SCHEMA",
       upper(p.proname)::varchar(128) AS "SPECIFIC_NAME",
       'FUNCTION'::varchar(9)         AS "ROUTINE_TYPE",
       (CASE WHEN p.proretset THEN 'T' ELSE 'S' END)::char(1) AS "FUNCTION_TYPE",
       'SQL'::varchar(8)              AS "EXTERNAL_LANGUAGE"
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname IN ('systools', 'qsys2');

-- QSYS2.SYSPARMS: the parameters (ROW_TYPE 'P') and, for a table function,
-- its result columns (ROW_TYPE 'C') in order.
CREATE VIEW qsys2.sysparms AS
SELECT upper(n.nspname)::varchar(128)      AS "SPECIFIC_SCHEMA",
       upper(p.proname)::varchar(128)      AS "SPECIFIC_NAME",
       a.attnum::integer                    AS "ORDINAL_POSITION",
       'OUT'::varchar(5)                    AS "PARAMETER_MODE",
       a.attname::varchar(128)              AS "PARAMETER_NAME",
       lab.db2_data_type(a.atttypid)        AS "DATA_TYPE",
       lab.character_length(a.atttypid, a.atttypmod) AS "CHARACTER_MAXIMUM_LENGTH",
       (CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod > 4
             THEN ((a.atttypmod - 4) >> 16) END)::integer AS "NUMERIC_PRECISION",
       (CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod > 4
             THEN ((a.atttypmod - 4) & 65535) END)::integer AS "NUMERIC_SCALE",
       'YES'::varchar(3)                    AS "IS_NULLABLE",
       'C'::char(1)                         AS "ROW_TYPE"
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_type AS t ON t.oid = p.prorettype
JOIN pg_attribute AS a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('systools', 'qsys2') AND p.proretset
UNION ALL
SELECT upper(n.nspname)::varchar(128), upper(p.proname)::varchar(128), arg.position::integer,
       'IN'::varchar(5), upper(arg.name)::varchar(128), lab.db2_data_type(arg.type_oid), NULL::integer,
       NULL::integer, NULL::integer, 'YES'::varchar(3), 'P'::char(1)
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
CROSS JOIN LATERAL unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[])
    WITH ORDINALITY AS arg(name, type_oid, position)
WHERE n.nspname IN ('systools', 'qsys2');

-- QSYS2.GROUP_PROFILE_ENTRIES: one row per (group, member), for the group
-- profile (GRPPRF) and every supplemental group (SUPGRPPRF) of a user.
CREATE TABLE qsys2.group_profile_entries (
    "GROUP_PROFILE_NAME" varchar(10) NOT NULL,
    "USER_PROFILE_NAME"  varchar(10) NOT NULL,
    "USER_TEXT"          varchar(50),
    PRIMARY KEY ("GROUP_PROFILE_NAME", "USER_PROFILE_NAME")
);

CREATE FUNCTION lab.add_group_member(group_profile text, member text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO qsys2.group_profile_entries ("GROUP_PROFILE_NAME", "USER_PROFILE_NAME")
    VALUES (upper(btrim(group_profile)), upper(btrim(member)))
    ON CONFLICT DO NOTHING
$$;

-- QSYS2.GROUP_PTF_INFO: the lab plays a 7.4 system with its Db2 group installed.
CREATE TABLE qsys2.group_ptf_info (
    "PTF_GROUP_NAME"           varchar(60) NOT NULL,
    "PTF_GROUP_DESCRIPTION"    varchar(100),
    "PTF_GROUP_LEVEL"          integer NOT NULL,
    "PTF_GROUP_TARGET_RELEASE" varchar(6),
    "PTF_GROUP_STATUS"         varchar(20) NOT NULL
);
INSERT INTO qsys2.group_ptf_info VALUES
    ('SF99704', 'DB2 FOR IBM I', 26, 'V7R4M0', 'INSTALLED');

CREATE FUNCTION lab.set_ptf_group(name text, level integer, status text DEFAULT 'INSTALLED') RETURNS void
LANGUAGE sql AS $$
    DELETE FROM qsys2.group_ptf_info WHERE "PTF_GROUP_NAME" = upper(name);
    INSERT INTO qsys2.group_ptf_info VALUES (upper(name), 'DB2 FOR IBM I', level, 'V7R4M0', status);
$$;

-- QSYS2.SYSTEM_VALUE_INFO: the audit and time system values, set up as the
-- deploy/ibmi guide recommends (CHGSECAUD).
CREATE TABLE qsys2.system_value_info (
    "SYSTEM_VALUE_NAME"       varchar(10) PRIMARY KEY,
    "CURRENT_NUMERIC_VALUE"   bigint,
    "CURRENT_CHARACTER_VALUE" varchar(1280)
);
INSERT INTO qsys2.system_value_info VALUES
    ('QAUDCTL', NULL, '*AUDLVL *OBJAUD *NOQTEMP'),
    ('QAUDLVL', NULL, '*AUTFAIL *CREATE *DELETE *JOBDTA *NETCMN *SECURITY *SERVICE *SYSMGT *AUDLVL2'),
    ('QAUDLVL2', NULL, '*NONE'),
    ('QTIMZON', NULL, 'QN0000UTC2'),
    ('QUTCOFFSET', NULL, '+0000'),
    ('QQRYTIMLMT', NULL, '*NOMAX');

CREATE FUNCTION lab.set_system_value(name text, value text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO qsys2.system_value_info ("SYSTEM_VALUE_NAME", "CURRENT_CHARACTER_VALUE")
    VALUES (upper(name), value)
    ON CONFLICT ("SYSTEM_VALUE_NAME") DO UPDATE SET "CURRENT_CHARACTER_VALUE" = excluded."CURRENT_CHARACTER_VALUE"
$$;
