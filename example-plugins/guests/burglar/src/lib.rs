//! A hostile plugin: runs a script of raw `wasi:filesystem/types` calls,
//! exactly as given (any flags, any path, any descriptor), and reports what
//! each returned. It never traps on a WASI error, so the attack tests see
//! the error code the host chose, and it bounds every read and loop, so a
//! guard that loops or streams forever still gives an answer.

use example_interfaces::{
    AtCall, FdCall, FsAdvice, FsOp, FsOutcome, FsScript, FsStat, FsTime, OpenOptions,
};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Advice, Descriptor, DescriptorFlags, DescriptorType, ErrorCode, NewTimestamp, OpenFlags,
    PathFlags, filesystem_error_code,
};
use wasip2::io::streams::StreamError;

/// The most bytes one read returns.
const MAX_READ: u64 = 64 * 1024;
/// The most entries one listing returns.
const MAX_ENTRIES: usize = 10_000;
/// The most bytes one stream write sends per call (WASI's usual budget).
const WRITE_CHUNK: usize = 4096;

#[derive(Default)]
struct Burglar;

fn failed(code: ErrorCode) -> FsOutcome {
    FsOutcome::Failed(code.name().to_string())
}

fn stream_failed(e: StreamError) -> FsOutcome {
    match e {
        StreamError::Closed => FsOutcome::Failed("stream-closed".to_string()),
        StreamError::LastOperationFailed(err) => match filesystem_error_code(&err) {
            Some(code) => failed(code),
            None => FsOutcome::Failed(format!("stream-error: {}", err.to_debug_string())),
        },
    }
}

fn kind(t: DescriptorType) -> &'static str {
    match t {
        DescriptorType::Unknown => "unknown",
        DescriptorType::BlockDevice => "block-device",
        DescriptorType::CharacterDevice => "character-device",
        DescriptorType::Directory => "directory",
        DescriptorType::Fifo => "fifo",
        DescriptorType::SymbolicLink => "symbolic-link",
        DescriptorType::RegularFile => "regular-file",
        DescriptorType::Socket => "socket",
    }
}

fn path_flags(follow: bool) -> PathFlags {
    if follow {
        PathFlags::SYMLINK_FOLLOW
    } else {
        PathFlags::empty()
    }
}

fn time(t: FsTime) -> NewTimestamp {
    match t {
        FsTime::NoChange => NewTimestamp::NoChange,
        FsTime::Now => NewTimestamp::Now,
        FsTime::At(seconds, nanoseconds) => {
            NewTimestamp::Timestamp(wasip2::clocks::wall_clock::Datetime {
                seconds,
                nanoseconds,
            })
        }
    }
}

fn advice(a: FsAdvice) -> Advice {
    match a {
        FsAdvice::Normal => Advice::Normal,
        FsAdvice::Sequential => Advice::Sequential,
        FsAdvice::Random => Advice::Random,
        FsAdvice::WillNeed => Advice::WillNeed,
        FsAdvice::DontNeed => Advice::DontNeed,
        FsAdvice::NoReuse => Advice::NoReuse,
    }
}

fn open_flags(o: &OpenOptions) -> (PathFlags, OpenFlags, DescriptorFlags) {
    let mut open = OpenFlags::empty();
    open.set(OpenFlags::CREATE, o.create);
    open.set(OpenFlags::DIRECTORY, o.directory);
    open.set(OpenFlags::EXCLUSIVE, o.exclusive);
    open.set(OpenFlags::TRUNCATE, o.truncate);
    let mut flags = DescriptorFlags::empty();
    flags.set(DescriptorFlags::READ, o.read);
    flags.set(DescriptorFlags::WRITE, o.write);
    flags.set(DescriptorFlags::FILE_INTEGRITY_SYNC, o.file_integrity_sync);
    flags.set(DescriptorFlags::DATA_INTEGRITY_SYNC, o.data_integrity_sync);
    flags.set(
        DescriptorFlags::REQUESTED_WRITE_SYNC,
        o.requested_write_sync,
    );
    flags.set(DescriptorFlags::MUTATE_DIRECTORY, o.mutate_directory);
    (path_flags(o.symlink_follow), open, flags)
}

fn flag_names(flags: DescriptorFlags) -> Vec<String> {
    [
        (DescriptorFlags::READ, "read"),
        (DescriptorFlags::WRITE, "write"),
        (DescriptorFlags::FILE_INTEGRITY_SYNC, "file-integrity-sync"),
        (DescriptorFlags::DATA_INTEGRITY_SYNC, "data-integrity-sync"),
        (
            DescriptorFlags::REQUESTED_WRITE_SYNC,
            "requested-write-sync",
        ),
        (DescriptorFlags::MUTATE_DIRECTORY, "mutate-directory"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, name)| name.to_string())
    .collect()
}

/// `Done` for `Ok(())`, the error code otherwise.
fn done(r: Result<(), ErrorCode>) -> FsOutcome {
    match r {
        Ok(()) => FsOutcome::Done,
        Err(code) => failed(code),
    }
}

/// The descriptors of one script.
struct Slots(Vec<Option<Descriptor>>);

impl Slots {
    fn get(&self, slot: u32) -> Option<&Descriptor> {
        self.0.get(slot as usize).and_then(Option::as_ref)
    }

    /// Fills the next slot: with the descriptor, or left empty when the
    /// call that was to make it failed (so that slot numbers never depend on
    /// which calls succeeded).
    fn push(&mut self, made: Result<Descriptor, FsOutcome>) -> FsOutcome {
        match made {
            Ok(d) => {
                self.0.push(Some(d));
                FsOutcome::Slot((self.0.len() - 1) as u32)
            }
            Err(outcome) => {
                self.0.push(None);
                outcome
            }
        }
    }
}

fn no_slot() -> FsOutcome {
    FsOutcome::Failed("no-such-slot".to_string())
}

/// Reads a stream to its end, at most [`MAX_READ`] bytes.
fn read_stream(d: &Descriptor, offset: u64) -> FsOutcome {
    let stream = match d.read_via_stream(offset) {
        Ok(s) => s,
        Err(code) => return failed(code),
    };
    let mut data = Vec::new();
    // Every successful read returns at least one byte or blocks, so the
    // loop ends after at most MAX_READ reads; empty reads are counted too.
    for _ in 0..MAX_READ {
        let want = MAX_READ - data.len() as u64;
        if want == 0 {
            break;
        }
        match stream.blocking_read(want) {
            Ok(chunk) => data.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return stream_failed(e),
        }
    }
    FsOutcome::Data(String::from_utf8_lossy(&data).into_owned())
}

/// Writes all of `data` to a stream and flushes it.
fn write_stream(
    stream: Result<wasip2::io::streams::OutputStream, ErrorCode>,
    data: &str,
) -> FsOutcome {
    let stream = match stream {
        Ok(s) => s,
        Err(code) => return failed(code),
    };
    for chunk in data.as_bytes().chunks(WRITE_CHUNK) {
        if let Err(e) = stream.blocking_write_and_flush(chunk) {
            return stream_failed(e);
        }
    }
    if let Err(e) = stream.blocking_flush() {
        return stream_failed(e);
    }
    FsOutcome::Written(data.len() as u64)
}

fn list(d: &Descriptor) -> FsOutcome {
    let entries = match d.read_directory() {
        Ok(s) => s,
        Err(code) => return failed(code),
    };
    let mut names = Vec::new();
    while names.len() < MAX_ENTRIES {
        match entries.read_directory_entry() {
            Ok(Some(e)) => names.push(e.name),
            Ok(None) => break,
            Err(code) => return failed(code),
        }
    }
    FsOutcome::Entries(names)
}

fn stat(r: Result<wasip2::filesystem::types::DescriptorStat, ErrorCode>) -> FsOutcome {
    match r {
        Ok(s) => FsOutcome::Stat(FsStat {
            kind: kind(s.type_).to_string(),
            size: s.size,
            link_count: s.link_count,
            modified_ns: s.data_modification_timestamp.map(|t| {
                t.seconds
                    .saturating_mul(1_000_000_000)
                    .saturating_add(u64::from(t.nanoseconds))
            }),
        }),
        Err(code) => failed(code),
    }
}

fn hash(r: Result<wasip2::filesystem::types::MetadataHashValue, ErrorCode>) -> FsOutcome {
    match r {
        Ok(h) => FsOutcome::Hash(h.lower, h.upper),
        Err(code) => failed(code),
    }
}

fn run_one(slots: &mut Slots, op: FsOp) -> FsOutcome {
    match op {
        FsOp::Preopen(guest) => {
            let found = get_directories()
                .into_iter()
                .find(|(_, path)| *path == guest)
                .map(|(d, _)| d);
            slots.push(found.ok_or_else(|| failed(ErrorCode::NoEntry)))
        }
        FsOp::Close(slot) => match slots.0.get_mut(slot as usize).and_then(Option::take) {
            Some(d) => {
                drop(d);
                FsOutcome::Done
            }
            None => no_slot(),
        },
        FsOp::Fd { slot, call } => match slots.get(slot) {
            Some(d) => fd_call(slots, d, call),
            None => no_slot(),
        },
        FsOp::At {
            slot,
            call: AtCall::OpenAt { path, options },
        } => {
            let (pf, of, df) = open_flags(&options);
            let made = match slots.get(slot) {
                Some(d) => d.open_at(pf, &path, of, df).map_err(failed),
                None => Err(no_slot()),
            };
            slots.push(made)
        }
        FsOp::At { slot, call } => match slots.get(slot) {
            Some(d) => at_call(slots, d, call),
            None => no_slot(),
        },
    }
}

fn fd_call(slots: &Slots, d: &Descriptor, call: FdCall) -> FsOutcome {
    match call {
        FdCall::ReadViaStream(offset) => read_stream(d, offset),
        FdCall::WriteViaStream(offset, data) => write_stream(d.write_via_stream(offset), &data),
        FdCall::AppendViaStream(data) => write_stream(d.append_via_stream(), &data),
        FdCall::Advise(offset, length, a) => done(d.advise(offset, length, advice(a))),
        FdCall::SyncData => done(d.sync_data()),
        FdCall::GetFlags => match d.get_flags() {
            Ok(f) => FsOutcome::DescriptorFlags(flag_names(f)),
            Err(code) => failed(code),
        },
        FdCall::GetType => match d.get_type() {
            Ok(t) => FsOutcome::Kind(kind(t).to_string()),
            Err(code) => failed(code),
        },
        FdCall::SetSize(size) => done(d.set_size(size)),
        FdCall::SetTimes(atime, mtime) => done(d.set_times(time(atime), time(mtime))),
        FdCall::Read(length, offset) => match d.read(length.min(MAX_READ), offset) {
            Ok((bytes, _end)) => FsOutcome::Data(String::from_utf8_lossy(&bytes).into_owned()),
            Err(code) => failed(code),
        },
        FdCall::Write(data, offset) => match d.write(data.as_bytes(), offset) {
            Ok(n) => FsOutcome::Written(n),
            Err(code) => failed(code),
        },
        FdCall::ReadDirectory => list(d),
        FdCall::Sync => done(d.sync()),
        FdCall::Stat => stat(d.stat()),
        FdCall::IsSameObject(other) => match slots.get(other) {
            Some(o) => FsOutcome::Same(d.is_same_object(o)),
            None => no_slot(),
        },
        FdCall::MetadataHash => hash(d.metadata_hash()),
    }
}

/// A path call other than `open-at`.
fn at_call(slots: &Slots, d: &Descriptor, call: AtCall) -> FsOutcome {
    match call {
        AtCall::CreateDirectoryAt(path) => done(d.create_directory_at(&path)),
        AtCall::StatAt { follow, path } => stat(d.stat_at(path_flags(follow), &path)),
        AtCall::SetTimesAt {
            follow,
            path,
            atime,
            mtime,
        } => done(d.set_times_at(path_flags(follow), &path, time(atime), time(mtime))),
        AtCall::LinkAt {
            follow,
            old_path,
            new_slot,
            new_path,
        } => match slots.get(new_slot) {
            Some(new) => done(d.link_at(path_flags(follow), &old_path, new, &new_path)),
            None => no_slot(),
        },
        // Handled by `run_one`, which fills a slot.
        AtCall::OpenAt { .. } => no_slot(),
        AtCall::ReadlinkAt(path) => match d.readlink_at(&path) {
            Ok(text) => FsOutcome::Link(text),
            Err(code) => failed(code),
        },
        AtCall::RemoveDirectoryAt(path) => done(d.remove_directory_at(&path)),
        AtCall::RenameAt {
            old_path,
            new_slot,
            new_path,
        } => match slots.get(new_slot) {
            Some(new) => done(d.rename_at(&old_path, new, &new_path)),
            None => no_slot(),
        },
        AtCall::SymlinkAt { target, path } => done(d.symlink_at(&target, &path)),
        AtCall::UnlinkFileAt(path) => done(d.unlink_file_at(&path)),
        AtCall::MetadataHashAt { follow, path } => {
            hash(d.metadata_hash_at(path_flags(follow), &path))
        }
    }
}

impl FsScript for Burglar {
    fn run(&self, ops: Vec<FsOp>) -> Vec<FsOutcome> {
        let mut slots = Slots(Vec::new());
        ops.into_iter().map(|op| run_one(&mut slots, op)).collect()
    }
}

wasm_sandbox_guest::export!(Burglar: example_interfaces::FsScript);
