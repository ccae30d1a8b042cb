// ANCHOR: plugin
// The `file-reader` example plugin in C: reads a whole file with stdio.
// wasi-libc turns `fopen` into WASI filesystem calls, so only files under
// the directories the host granted (its preopens) can be opened.
//
// Ownership: the `path` argument belongs to this code and is freed here; the
// result string (ok or err) is freed by the generated `cabi_post_*` function
// after the host has copied it, unless its length is zero.
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_reader.h"

typedef file_reader_string_t string;

// Sets `err` to a copy of `message` and returns false, the bindings' "err".
static bool fail(string *err, const char *message) {
    file_reader_string_dup(err, message);
    return false;
}

// True when `text[0..len)` is well-formed UTF-8, which a WIT `string` must
// be: the host would trap on anything else.
static bool is_utf8(const uint8_t *text, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = text[i];
        size_t extra;
        uint32_t min;
        uint32_t code;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80, code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800, code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000, code = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= extra) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            uint8_t next = text[i + k];
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

// Reads all of `file` into a new buffer. On success sets `*data` (NULL when
// the file is empty) and `*len`; on failure returns false with errno set.
static bool read_all(FILE *file, uint8_t **data, size_t *len) {
    uint8_t *buf = NULL;
    size_t used = 0;
    size_t cap = 0;
    for (;;) {
        if (used == cap) {
            size_t new_cap = cap == 0 ? 4096 : cap * 2;
            uint8_t *bigger = realloc(buf, new_cap);
            if (bigger == NULL) {
                free(buf);
                errno = ENOMEM;
                return false;
            }
            buf = bigger;
            cap = new_cap;
        }
        size_t got = fread(buf + used, 1, cap - used, file);
        used += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(file)) {
        int saved = errno;
        free(buf);
        errno = saved;
        return false;
    }
    if (used == 0) {
        // An empty result must not own memory: it would not be freed.
        free(buf);
        buf = NULL;
    }
    *data = buf;
    *len = used;
    return true;
}

bool exports_example_interfaces_file_reader_plugin_read_file(
    string *path, string *ret, string *err) {
    // The argument is not NUL-terminated: make a C string of it.
    if (path->len > 0 && memchr(path->ptr, '\0', path->len) != NULL) {
        file_reader_string_free(path);
        return fail(err, "path contains a NUL byte");
    }
    char *c_path = malloc(path->len + 1);
    if (c_path == NULL) {
        file_reader_string_free(path);
        return fail(err, strerror(ENOMEM));
    }
    if (path->len > 0) {
        memcpy(c_path, path->ptr, path->len);
    }
    c_path[path->len] = '\0';
    file_reader_string_free(path);

    FILE *file = fopen(c_path, "rb");
    free(c_path);
    if (file == NULL) {
        return fail(err, strerror(errno));
    }
    uint8_t *data;
    size_t len;
    bool ok = read_all(file, &data, &len);
    int saved = errno;
    fclose(file);
    if (!ok) {
        return fail(err, strerror(saved));
    }
    if (!is_utf8(data, len)) {
        free(data);
        return fail(err, "the file is not valid UTF-8");
    }
    ret->ptr = data;
    ret->len = len;
    return true;
}
// ANCHOR_END: plugin
