//! Backups of a school server: a consistent online copy of the SQLite database
//! plus the data directory's other files, and restoring one into a new directory.
//!
//! The database is copied with SQLite's `VACUUM INTO`, which reads one
//! consistent snapshot through SQLite itself while the server keeps running
//! (a file copy of a live WAL database can be torn). The archive is a
//! `.tar.gz` holding `qiming.db`, the hidden-case secret and anything else in
//! the data directory except the live database files and the backups folder.
//! PostgreSQL installations use `pg_dump`/`pg_restore` instead (README).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::db::{Backend, Db};

/// The database's file name inside the data directory and the archive.
pub const DB_FILE: &str = "qiming.db";

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Write the backup archive (.tar.gz) here.
    #[arg(long)]
    pub out: PathBuf,
    /// The server's data directory.
    #[arg(long, env = "QIMING_DATA_DIR", default_value = "qiming-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A backup archive made by `qiming backup` (or a scheduled backup).
    pub file: PathBuf,
    /// An empty (or new) directory to restore into.
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// Files of the data directory that are never copied file by file.
fn skipped(name: &str) -> bool {
    name.starts_with(DB_FILE) || name == "backups" || name.starts_with(".qiming-backup-")
}

/// Makes a backup archive of a running (or stopped) server's SQLite database and data directory.
pub async fn backup(db: &Db, data_dir: &Path, out: &Path) -> anyhow::Result<u64> {
    anyhow::ensure!(db.backend == Backend::Sqlite, "qiming backup copies SQLite databases; for PostgreSQL use pg_dump (see README, \"Backups\")");
    let snapshot = data_dir.join(format!(".qiming-backup-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&snapshot);
    sqlx::query("VACUUM INTO $1")
        .bind(snapshot.to_string_lossy().into_owned())
        .execute(&db.pool)
        .await
        .context("cannot snapshot the database (VACUUM INTO)")?;
    let data_dir = data_dir.to_path_buf();
    let out = out.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        let result = write_archive(&snapshot, &data_dir, &out);
        let _ = std::fs::remove_file(&snapshot);
        result
    })
    .await
    .context("backup task")??;
    Ok(written)
}

/// Packs the snapshot and the data directory's other files; writes to a
/// temporary name and renames, so a half-written archive never looks complete.
fn write_archive(snapshot: &Path, data_dir: &Path, out: &Path) -> anyhow::Result<u64> {
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_path_with_name(snapshot, DB_FILE).context("cannot add the database to the archive")?;
    let mut entries: Vec<_> = std::fs::read_dir(data_dir).with_context(|| format!("cannot read {}", data_dir.display()))?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if skipped(&name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            tar.append_dir_all(&name, &path).with_context(|| format!("cannot add {}", path.display()))?;
        } else if path.is_file() {
            tar.append_path_with_name(&path, &name).with_context(|| format!("cannot add {}", path.display()))?;
        }
    }
    let gz = tar.into_inner().context("cannot finish the archive")?;
    let file = gz.finish().context("cannot finish the archive")?;
    file.sync_all().context("cannot flush the archive")?;
    std::fs::rename(&partial, out).with_context(|| format!("cannot move the archive to {}", out.display()))?;
    Ok(std::fs::metadata(out).map(|m| m.len()).unwrap_or(0))
}

/// Restores an archive into `data_dir`, which must not hold a database yet:
/// a restore never overwrites a live server's data.
pub fn restore(archive: &Path, data_dir: &Path) -> anyhow::Result<()> {
    if data_dir.join(DB_FILE).exists() {
        anyhow::bail!("{} already holds a Qiming database; restore into a new, empty directory (and stop the server first)", data_dir.display());
    }
    if data_dir.exists() && std::fs::read_dir(data_dir).with_context(|| format!("cannot read {}", data_dir.display()))?.next().is_some() {
        anyhow::bail!("{} is not empty; restore into a new, empty directory", data_dir.display());
    }
    let file = std::fs::File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let staging = data_dir.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    // `unpack` refuses paths that would escape the directory.
    tar.unpack(&staging).with_context(|| format!("{} is not a readable Qiming backup", archive.display()))?;
    anyhow::ensure!(staging.join(DB_FILE).is_file(), "{} is not a Qiming backup: it has no {DB_FILE}", archive.display());
    if data_dir.exists() {
        std::fs::remove_dir(data_dir).with_context(|| format!("cannot replace the empty {}", data_dir.display()))?;
    }
    std::fs::rename(&staging, data_dir).with_context(|| format!("cannot move the restored files to {}", data_dir.display()))?;
    Ok(())
}

/// A file name for a scheduled backup made at Unix time `at` (sortable).
pub fn scheduled_name(at: i64) -> String {
    format!("qiming-backup-{at:012}.tar.gz")
}

/// Makes a backup every `every` into `dir`, keeping the newest `keep`.
pub async fn backup_periodically(
    db: Db,
    data_dir: PathBuf,
    dir: PathBuf,
    every: std::time::Duration,
    keep: usize,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopping.changed() => return,
        }
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::error!(error = %e, dir = %dir.display(), "cannot create the backup directory");
            continue;
        }
        let out = dir.join(scheduled_name(super::now()));
        match backup(&db, &data_dir, &out).await {
            Ok(bytes) => tracing::info!(file = %out.display(), bytes, "scheduled backup written"),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "scheduled backup failed");
                continue;
            }
        }
        prune_backups(&dir, keep);
    }
}

/// Deletes all but the newest `keep` scheduled backups in `dir`.
pub fn prune_backups(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("qiming-backup-") && n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep.max(1));
    for name in &names[..excess] {
        if let Err(e) = std::fs::remove_file(dir.join(name)) {
            tracing::warn!(error = %e, file = name, "cannot delete an old backup");
        }
    }
}

/// `qiming backup`.
pub fn run_backup_cmd(args: BackupArgs) -> anyhow::Result<std::process::ExitCode> {
    let db_path = args.data_dir.join(DB_FILE);
    anyhow::ensure!(db_path.is_file(), "no Qiming database at {} (use --data-dir)", db_path.display());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let bytes = runtime.block_on(async {
        let db = Db::connect(&format!("sqlite://{}", db_path.display())).await?;
        backup(&db, &args.data_dir, &args.out).await
    })?;
    println!("backup written to {} ({bytes} bytes)", args.out.display());
    Ok(std::process::ExitCode::SUCCESS)
}

/// `qiming restore`.
pub fn run_restore_cmd(args: RestoreArgs) -> anyhow::Result<std::process::ExitCode> {
    restore(&args.file, &args.data_dir)?;
    println!("restored {} into {}; start the server with --data-dir {}", args.file.display(), args.data_dir.display(), args.data_dir.display());
    Ok(std::process::ExitCode::SUCCESS)
}
