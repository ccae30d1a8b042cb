// The `text-filter` example plugin in JavaScript.
//
// Implements the `plugin` interface of the `text-filter` WIT world
// (wit/example-interfaces/text-filter/text-filter.wit), exactly like the
// Rust plugin in example-plugins/guests/text-filter. Built with jco's
// QuickJS backend (see build.sh), whose mapping of WIT types is:
//
// - a record is an object with camelCase keys (`maxLines`, `dropEmpty`);
// - an enum case is its name as a string (`'upper'`);
// - a variant is `{ tag, val }` (`{ tag: 'rejected', val: 'why' }`);
// - an option is the value or `null`;
// - `u32` and `u64` are plain numbers;
// - an exported function returning `result<T, E>` returns the `T` for `ok`
//   and throws the `E` for `err`.

// ANCHOR: plugin
// Functions of an imported interface are ES module imports named by the
// interface: this one is the host's key-value store.
import { get, set } from 'example-interfaces:key-value/key-value@0.1.0';

// Module state lives as long as the instance: the host resets it by making
// a new instance.
let filtered = 0;
let refused = 0;

// Counts a refusal and returns it as the WIT `err` value.
function refuse(error) {
  refused += 1;
  throw error;
}

// The exported `plugin` interface: an object named after it, with a method
// per WIT function (kebab-case names become camelCase).
export const plugin = {
  name() {
    return 'cleaner';
  },

  filter(doc, opts) {
    if (doc.lines.length === 0) {
      refuse({ tag: 'empty' });
    }
    // Words the host has banned, from its key-value store (`null` if unset).
    const banned = get('banned') ?? '';
    const lines = [];
    for (const line of doc.lines) {
      if (opts.dropEmpty && line.trim() === '') {
        continue;
      }
      if (banned !== '' && line.includes(banned)) {
        refuse({ tag: 'rejected', val: `contains \`${banned}\`` });
      }
      switch (opts.case) {
        case 'upper':
          lines.push(line.toUpperCase());
          break;
        case 'lower':
          lines.push(line.toLowerCase());
          break;
        default: // 'keep'
          lines.push(line);
      }
    }
    if (lines.length > opts.maxLines) {
      refuse({ tag: 'too-long', val: { limit: opts.maxLines, actual: lines.length } });
    }
    filtered += 1;
    // Remember the last title in the host's store.
    set('last-title', doc.title);
    return { title: doc.title, lines, tags: doc.tags };
  },

  stats() {
    return { filtered, refused };
  },
};
// ANCHOR_END: plugin
