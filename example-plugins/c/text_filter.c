// ANCHOR: plugin
// The `text-filter` example plugin in C: the same behaviour as the Rust
// plugin in example-plugins/guests/text-filter.
//
// Ownership follows the canonical ABI as wit-bindgen-c maps it:
// - The arguments of an exported function belong to this code: every string
//   and list in them was allocated with `cabi_realloc` (that is, `realloc`)
//   and must be freed, or moved into the result.
// - The result of an exported function is freed by the generated
//   `cabi_post_*` function after the host has copied it, but only the
//   strings and lists whose length is not zero: an empty result must not own
//   memory.
// - Arguments passed to an imported function stay ours; a string an imported
//   function returns becomes ours.
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text_filter.h"

typedef text_filter_string_t string;
typedef text_filter_list_string_t string_list;
typedef exports_example_interfaces_text_filter_plugin_document_t document;
typedef exports_example_interfaces_text_filter_plugin_filter_options_t filter_options;
typedef exports_example_interfaces_text_filter_plugin_filter_error_t filter_error;

// State of this instance: it lives until the host drops the instance.
static uint64_t filtered_count;
static uint64_t refused_count;

void exports_example_interfaces_text_filter_plugin_name(string *ret) {
    // The result is freed after the call, so it must be a heap copy.
    text_filter_string_dup(ret, "cleaner");
}

void exports_example_interfaces_text_filter_plugin_stats(
    exports_example_interfaces_text_filter_plugin_filter_stats_t *ret) {
    ret->filtered = filtered_count;
    ret->refused = refused_count;
}

// Frees `count` strings of an argument list (not the array itself).
static void free_strings(string *strings, size_t count) {
    for (size_t i = 0; i < count; i++) {
        text_filter_string_free(&strings[i]);
    }
}

// Frees the title and the tags of the document argument. (The generated
// `..._document_free` is not used: in wit-bindgen-c 0.60 it frees neither
// `lines` nor the list inside `tags`.)
static void free_title_and_tags(document *doc) {
    text_filter_string_free(&doc->title);
    if (doc->tags.is_some) {
        text_filter_list_string_free(&doc->tags.val);
    }
}

// Counts a refusal and returns false, the bindings' "err" value.
static bool refuse(filter_error *err, uint8_t tag) {
    refused_count++;
    err->tag = tag;
    return false;
}

// True when the line holds only white space.
static bool is_blank(const string *line) {
    for (size_t i = 0; i < line->len; i++) {
        if (!isspace(line->ptr[i])) {
            return false;
        }
    }
    return true;
}

// True when `needle` occurs in `haystack`. Neither is NUL-terminated.
static bool contains(const string *haystack, const string *needle) {
    if (needle->len > haystack->len) {
        return false;
    }
    for (size_t i = 0; i + needle->len <= haystack->len; i++) {
        if (memcmp(haystack->ptr + i, needle->ptr, needle->len) == 0) {
            return true;
        }
    }
    return false;
}

// Changes the letter case of `line` in place, byte by byte: ASCII letters
// change, the bytes of other UTF-8 characters are left as they are.
static void apply_case(string *line, uint8_t mode) {
    for (size_t i = 0; i < line->len; i++) {
        if (mode == EXAMPLE_INTERFACES_TEXT_FILTER_TYPES_CASE_MODE_UPPER) {
            line->ptr[i] = (uint8_t)toupper(line->ptr[i]);
        } else if (mode == EXAMPLE_INTERFACES_TEXT_FILTER_TYPES_CASE_MODE_LOWER) {
            line->ptr[i] = (uint8_t)tolower(line->ptr[i]);
        }
    }
}

// Sets `err` to `rejected("contains `<banned>`")`.
static void set_rejected(filter_error *err, const string *banned) {
    static const char prefix[] = "contains `";
    size_t prefix_len = sizeof prefix - 1;
    size_t len = prefix_len + banned->len + 1;
    uint8_t *text = malloc(len);
    if (text == NULL) {
        abort();
    }
    memcpy(text, prefix, prefix_len);
    memcpy(text + prefix_len, banned->ptr, banned->len);
    text[len - 1] = '`';
    err->val.rejected.ptr = text;
    err->val.rejected.len = len;
}

bool exports_example_interfaces_text_filter_plugin_filter(
    document *doc, filter_options *opts, document *ret, filter_error *err) {
    if (doc->lines.len == 0) {
        // An empty list owns no memory: only title and tags to free.
        free_title_and_tags(doc);
        return refuse(err, EXAMPLE_INTERFACES_TEXT_FILTER_TYPES_FILTER_ERROR_EMPTY);
    }

    // ANCHOR: call_host
    // Words the host has banned, from its key-value store. The key is only
    // lent to the host; the value it returns is ours to free.
    string key;
    text_filter_string_set(&key, "banned");
    string banned = {NULL, 0};
    if (!example_interfaces_key_value_key_value_get(&key, &banned)) {
        banned = (string){NULL, 0};
    }
    // ANCHOR_END: call_host

    // Kept lines are moved to the front of the argument's own array, which
    // then becomes the result's array.
    string *lines = doc->lines.ptr;
    size_t count = doc->lines.len;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        string line = lines[i];
        if (opts->drop_empty && is_blank(&line)) {
            text_filter_string_free(&line);
            continue;
        }
        if (banned.len > 0 && contains(&line, &banned)) {
            set_rejected(err, &banned);
            text_filter_string_free(&banned);
            free_strings(lines, kept);
            free_strings(lines + i, count - i);
            free(lines);
            free_title_and_tags(doc);
            return refuse(err, EXAMPLE_INTERFACES_TEXT_FILTER_TYPES_FILTER_ERROR_REJECTED);
        }
        apply_case(&line, opts->case_);
        lines[kept++] = line;
    }
    text_filter_string_free(&banned);

    if (kept > opts->max_lines) {
        err->val.too_long.limit = opts->max_lines;
        err->val.too_long.actual = (uint32_t)kept;
        free_strings(lines, kept);
        free(lines);
        free_title_and_tags(doc);
        return refuse(err, EXAMPLE_INTERFACES_TEXT_FILTER_TYPES_FILTER_ERROR_TOO_LONG);
    }

    filtered_count++;
    // Remember the last title in the host's store (both strings are lent).
    string last_title_key;
    text_filter_string_set(&last_title_key, "last-title");
    example_interfaces_key_value_key_value_set(&last_title_key, &doc->title);

    // Move title, lines and tags into the result.
    ret->title = doc->title;
    ret->tags = doc->tags;
    if (kept == 0) {
        // An empty list in the result is not freed after the call.
        free(lines);
        ret->lines = (string_list){NULL, 0};
    } else {
        ret->lines = (string_list){lines, kept};
    }
    return true;
}
// ANCHOR_END: plugin
