// The `file-reader` example plugin in JavaScript.
//
// Implements the `plugin` interface of the `file-reader` WIT world
// (wit/example-interfaces/file-reader/file-reader.wit). JavaScript engines
// for components have no file API (no `fs`), so this plugin calls the WASI
// filesystem interfaces directly; it is built against wit/file-reader.wit,
// which adds them to the golden world. Like any WASI program, it only sees
// the directories the host grants (preopens); the host's policy checks every
// path and audits each attempt.

// ANCHOR: plugin
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';

// The preopened directory that holds `path` (the longest matching guest
// path), and the rest of `path` relative to it. This is what wasi-libc does
// for C and Rust programs.
function resolve(path) {
  const absolute = path.startsWith('/') ? path : `/${path}`;
  let best = null;
  for (const [dir, guestPath] of getDirectories()) {
    const prefix = guestPath.endsWith('/') ? guestPath : `${guestPath}/`;
    const inside = absolute === guestPath || absolute.startsWith(prefix);
    if (inside && (best === null || guestPath.length > best.guestPath.length)) {
      best = { dir, guestPath };
    }
  }
  if (best === null) {
    throw new Error('no-entry');
  }
  const relative = absolute.slice(best.guestPath.length).replace(/^\/+/, '');
  return { dir: best.dir, relative: relative === '' ? '.' : relative };
}

// Strict UTF-8 decoding: the QuickJS engine has no TextDecoder.
// decodeURIComponent decodes percent-encoded UTF-8 and throws a URIError on
// malformed input.
const PERCENT = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).padStart(2, '0')}`);

function decodeUtf8(chunks) {
  const encoded = [];
  for (const chunk of chunks) {
    for (const byte of chunk) {
      encoded.push(PERCENT[byte]);
    }
  }
  try {
    return decodeURIComponent(encoded.join(''));
  } catch {
    throw new Error('stream did not contain valid UTF-8');
  }
}

export const plugin = {
  readFile(path) {
    let file = null;
    try {
      const { dir, relative } = resolve(path);
      // A WASI call that returns `result<T, error-code>` returns the `T` or
      // throws an Error whose message is the error code, e.g. `no-entry`.
      file = dir.openAt({ symlinkFollow: true }, relative, {}, { read: true });
      const chunks = [];
      let offset = 0;
      for (;;) {
        const [bytes, end] = file.read(65536, offset);
        if (bytes.length > 0) {
          chunks.push(bytes);
          offset += bytes.length;
        }
        if (end || bytes.length === 0) {
          break;
        }
      }
      return decodeUtf8(chunks);
    } catch (e) {
      // Throwing a string makes the WIT `err`; never let an exception trap.
      throw `${path}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      // Close the file now rather than when the garbage collector runs.
      file?.[Symbol.dispose]();
    }
  },
};
// ANCHOR_END: plugin
