//! An instance's standard input, read by a thread of its own so that a read blocked on
//! the host's stream never blocks the instance: `read_line` waits for input a few
//! milliseconds at a time and gives up as soon as an interrupt or deadline asks.

use super::Interrupt;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long `read_line` waits for input before looking at the interrupt again.
const POLL: Duration = Duration::from_millis(2);
/// The most one read of the source returns; at most two such chunks wait in the channel,
/// so the reader never holds more than that of the host's input in memory.
const CHUNK: usize = 64 * 1024;

/// Why `read_line` gave no line.
pub enum ReadError {
    /// The instance was interrupted (or its deadline passed) while waiting.
    Interrupted,
    /// The line is longer than the caller allows.
    TooLong,
    /// Reading the source failed.
    Io(String),
}

/// The instance's stdin: the host's reader, then the channel from the thread reading it.
pub struct Stdin {
    source: Option<Box<dyn Read + Send>>,
    chunks: Option<Receiver<std::io::Result<Vec<u8>>>>,
    pending: Vec<u8>,
    ended: bool,
}

impl Stdin {
    /// Stdin reading from `source` (started on the first read).
    pub fn new(source: Box<dyn Read + Send>) -> Stdin {
        Stdin { source: Some(source), chunks: None, pending: Vec::new(), ended: false }
    }

    /// The next line, without its `\n` (or `\r\n`), and the bytes it took from the input;
    /// `Ok(None)` at the end of input. A last line without a newline still counts. Lines
    /// longer than `max_len` bytes fail.
    pub fn read_line(
        &mut self,
        interrupt: &Interrupt,
        max_len: usize,
    ) -> Result<Option<(Vec<u8>, usize)>, ReadError> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                let consumed = line.len();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some((line, consumed)));
            }
            if self.pending.len() > max_len {
                return Err(ReadError::TooLong);
            }
            if self.ended {
                let rest = std::mem::take(&mut self.pending);
                let n = rest.len();
                return Ok((n > 0).then_some((rest, n)));
            }
            if interrupt.requested() {
                return Err(ReadError::Interrupted);
            }
            let chunks = self.chunks.get_or_insert_with(|| start_reader(self.source.take()));
            match chunks.recv_timeout(POLL) {
                Ok(Ok(chunk)) => self.pending.extend_from_slice(&chunk),
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(ReadError::Io(e.to_string()));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
    }
}

/// Starts the thread that moves `source`'s bytes into a channel until the end of input,
/// an error, or the instance dropping the receiver.
fn start_reader(source: Option<Box<dyn Read + Send>>) -> Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = sync_channel(2);
    if let Some(mut source) = source {
        let spawned = std::thread::Builder::new().name("kiln-stdin".into()).spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let sent = match source.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => tx.send(Ok(buf[..n].to_vec())),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            // No thread: the reader reports the failure as a read error.
            let (tx, rx) = sync_channel(1);
            let _ = tx.send(Err(e));
            return rx;
        }
    }
    rx
}
