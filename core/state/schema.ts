// The state database's schema, as the migrations that build it: `user_version` says how many
// have run, so an older database is brought up to date when it is opened.
/** Each entry moves the schema one version up; `user_version` says how many have run. */
export const MIGRATIONS = [
  `
CREATE TABLE projects (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE,
  root       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE environments (
  id              INTEGER PRIMARY KEY,
  project_id      INTEGER NOT NULL REFERENCES projects(id),
  name            TEXT NOT NULL,
  branch          TEXT NOT NULL,
  path            TEXT NOT NULL,
  data_dir        TEXT NOT NULL,
  mode            TEXT NOT NULL DEFAULT 'simple',
  status          TEXT NOT NULL,
  compose_project TEXT,
  compose_file    TEXT,
  ports           TEXT NOT NULL DEFAULT '[]',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE operations (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  project_id  INTEGER NOT NULL REFERENCES projects(id),
  environment TEXT NOT NULL,
  env_id      INTEGER,
  status      TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  ended_at    TEXT,
  error       TEXT,
  stage       TEXT,
  exit_code   INTEGER
);
CREATE INDEX operations_env ON operations (project_id, environment, started_at);
`,
  // The process group of the command an operation is running, so a server that starts after
  // a crash can stop what the dead process left running.
  `ALTER TABLE operations ADD COLUMN child_pid INTEGER;`,
  // When each recorded process started, so a pid reused by another program is never taken for it.
  `ALTER TABLE operations ADD COLUMN pid_start TEXT; ALTER TABLE operations ADD COLUMN child_start TEXT;`,
  // The tmux server an environment's session was made on, so a destroy or an attach from another
  // context (another TMUX_TMPDIR, inside another tmux) finds it.
  `ALTER TABLE environments ADD COLUMN tmux_socket TEXT;`,
  // A project's shared services (one compose project for all its environments) hold a port block
  // of the same id space as environments; an environment records what it uses of them (its
  // database on a shared server).
  `
CREATE TABLE shared (
  project_id INTEGER PRIMARY KEY REFERENCES projects(id),
  block      INTEGER NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
ALTER TABLE environments ADD COLUMN shared TEXT NOT NULL DEFAULT '[]';
`,
  // What an environment was made from (the base branch's name and the commit it pointed at), so
  // prune can tell a branch merged into it; and when a person last used it (attach, exec, run,
  // shell; operations have their own rows).
  `ALTER TABLE environments ADD COLUMN base TEXT; ALTER TABLE environments ADD COLUMN base_commit TEXT; ALTER TABLE environments ADD COLUMN used_at TEXT;`,
];
