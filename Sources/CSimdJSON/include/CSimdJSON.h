// CSimdJSON: a small C API over simdjson's DOM parser (Debian libsimdjson-dev
// 3.0.1), so Swift can parse JSON without Foundation (DESIGN.md decision 3).
// Only AuditEvents imports this module.
#ifndef CSIMDJSON_H
#define CSIMDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A parser: owns the parsed document. Not thread-safe; one per decoder.
typedef struct vj_parser vj_parser;

/// A value inside the parser's current document (a tape position). Valid until
/// the next vj_parse on the same parser or vj_parser_destroy.
typedef struct vj_value {
    const void *doc;
    size_t index;
} vj_value;

typedef struct vj_field {
    const char *key;
    size_t key_length;
    vj_value value;
} vj_field;

enum vj_type {
    VJ_ARRAY = 1, VJ_OBJECT = 2, VJ_INT64 = 3, VJ_UINT64 = 4,
    VJ_DOUBLE = 5, VJ_STRING = 6, VJ_BOOL = 7, VJ_NULL = 8,
};

enum vj_error {
    VJ_OK = 0,
    VJ_ERR_CAPACITY = 1,   // larger than the parser's maximum capacity
    VJ_ERR_DEPTH = 2,      // nested deeper than the parser's maximum depth
    VJ_ERR_UTF8 = 3,       // invalid UTF-8
    VJ_ERR_EMPTY = 4,      // no JSON value (empty or only whitespace)
    VJ_ERR_MEMORY = 5,     // allocation failed
    VJ_ERR_SYNTAX = 6,     // any other syntax error (truncated, bad token, ...)
    VJ_ERR_INTERNAL = 7,   // no parser or unexpected exception
};

/// Creates a parser for documents up to max_capacity bytes and max_depth levels.
/// Returns NULL when allocation fails.
vj_parser *vj_parser_create(size_t max_capacity, size_t max_depth);
void vj_parser_destroy(vj_parser *parser);

/// Parses len bytes (copied into a padded buffer; buf needs no padding).
/// On VJ_OK, *root is the document's root value.
int vj_parse(vj_parser *parser, const uint8_t *buf, size_t len, vj_value *root);

/// Bytes a buffer must have allocated past its content for vj_parse_in_place
/// (simdjson's SIMDJSON_PADDING; their values do not matter).
#define VJ_PADDING 64

/// vj_parse without the copy: buf must have VJ_PADDING more bytes allocated
/// (readable) past len, which simdjson may read but never writes.
int vj_parse_in_place(vj_parser *parser, const uint8_t *buf, size_t len, vj_value *root);

/// Parses the JSON held in a string value of another parser's current
/// document (an AKS properties.log, a CloudWatch message) in place, without
/// copying it to a padded buffer when the document's string buffer has
/// simdjson's padding after it. VJ_ERR_INTERNAL when value is not a string.
int vj_parse_embedded(vj_parser *parser, vj_value string, vj_value *root);

/// Where a value is in a buffer; a length of SIZE_MAX when there is none.
typedef struct vj_span {
    size_t start, length;
} vj_span;

/// One Azure diagnostic record as vj_parse_or_azure read it: where it is (its
/// braces) and its members are in the record (strings without escapes), and
/// where its properties.log is unescaped in the read's logs (VJ_PADDING bytes
/// allocated past it).
typedef struct vj_azure_record {
    size_t start, end;
    vj_span category, resource_id, p_source_label, time, log;
} vj_azure_record;

/// The records of a vj_parse_or_azure read, valid until the parser's next one:
/// spans are offsets into base (the record, or the parser's padded copy of it).
typedef struct vj_azure_read {
    const uint8_t *base;
    const uint8_t *logs;
    const vj_azure_record *records;
    size_t count;
    bool batch;
} vj_azure_read;

/// vj_parse_or_azure's result for a record read into *read.
#define VJ_AZURE 100

/// Parses like vj_parse_in_place (in_place) or vj_parse, except that plain
/// Azure diagnostic records are read from stage 1 alone and their documents
/// never built: one record, or an Event Hubs batch (an object whose only member
/// is a non-empty array "records" of them). A plain record is an object of
/// string members, arrays of strings and one properties object of string
/// members, one log among them; no escapes outside properties.log (and none
/// but \" \\ \/ \b \f \n \r \t in a log it unescapes); one alone names no
/// member of another record shape (records, messageType, logEvents,
/// protoPayload) and a p_log_type only of Azure.MonitorActivity; nested no
/// deeper than the parser's depth limit lets stage 2 take. Such records return
/// VJ_AZURE with *read filled; any other input what vj_parse returns (stage 1
/// is not run twice), and so do records whose strings are too short for the
/// reading to pay, or with escapes to unescape without AVX-512 VBMI2.
int vj_parse_or_azure(vj_parser *parser, const uint8_t *buf, size_t len, bool in_place,
                      vj_azure_read *read, vj_value *root);

/// properties.log's unescaping (for tests): src[0..<n), a JSON string's
/// content, into dst (n + VJ_PADDING bytes); false on an escape it does not
/// take (\u, an invalid one) or without VBMI2 when src has a backslash.
bool vj_unescape_fast(const uint8_t *src, size_t n, uint8_t *dst, size_t *written);

/// A short, static description of the parser's last error (simdjson's text).
const char *vj_error_message(int simdjson_code);

int vj_type(vj_value value);
bool vj_get_string(vj_value value, const char **out, size_t *length);
bool vj_get_int64(vj_value value, int64_t *out);
bool vj_get_uint64(vj_value value, uint64_t *out);
bool vj_get_double(vj_value value, double *out);
bool vj_get_bool(vj_value value, bool *out);

/// Inline readers of a value's tape word, so the hot path makes no call.
/// They read simdjson's dom::document as { uint64_t *tape; uint8_t
/// *string_buf; ... }; vj_parser_create checks that layout and fails (returns
/// NULL) when it does not hold, so no value reaches these on a mismatch.
static inline uint64_t vj_tape_word(vj_value value) {
    const uint64_t *const *doc = (const uint64_t *const *)value.doc;
    return doc[0][value.index];
}

/// The same as vj_type, inline.
static inline int vj_type_fast(vj_value value) {
    switch ((unsigned char)(vj_tape_word(value) >> 56)) {
    case '[': return VJ_ARRAY;
    case '{': return VJ_OBJECT;
    case 'l': return VJ_INT64;
    case 'u': return VJ_UINT64;
    case 'd': return VJ_DOUBLE;
    case '"': return VJ_STRING;
    case 't': case 'f': return VJ_BOOL;
    default: return VJ_NULL;
    }
}

/// The same as vj_get_string, inline: a string is a little-endian uint32
/// length followed by its bytes in the document's string buffer.
static inline bool vj_get_string_fast(vj_value value, const char **out, size_t *length) {
    uint64_t word = vj_tape_word(value);
    if ((unsigned char)(word >> 56) != '"') { return false; }
    const unsigned char *strings = ((const unsigned char *const *)value.doc)[1];
    const unsigned char *at = strings + (word & 0x00FFFFFFFFFFFFFFULL);
    uint32_t n = (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) | ((uint32_t)at[3] << 24);
    *out = (const char *)(at + 4);
    *length = n;
    return true;
}

/// The only element of an array that holds exactly one string (the usual
/// `sourceIPs`): true with *out set to it; false for anything else. An
/// array's tape word holds the position just past its closing bracket, so
/// one string element (one word) and the bracket end it 3 words on.
static inline bool vj_single_string(vj_value array, vj_value *out) {
    uint64_t word = vj_tape_word(array);
    if ((unsigned char)(word >> 56) != '[' || (size_t)(uint32_t)word != array.index + 3) { return false; }
    vj_value element = { array.doc, array.index + 1 };
    if ((unsigned char)(vj_tape_word(element) >> 56) != '"') { return false; }
    *out = element;
    return true;
}
/// Looks up key in an object (first match). False when value is not an object
/// or has no such key.
bool vj_object_find(vj_value object, const char *key, size_t key_length, vj_value *out);

/// A key of a pick tree: a member of the root object (parent -1) or of the
/// object that is the value of key `parent` (an earlier index).
typedef struct vj_tree_key {
    const char *name;
    size_t length;
    int32_t parent;
} vj_tree_key;

/// Keys to pick out of an object and the objects nested in it, in one call.
typedef struct vj_picktree vj_picktree;

/// Builds a pick tree (up to 128 keys, up to 32 with children, each parent
/// before its children); the names must outlive it. NULL when the tree is
/// invalid or allocation fails. Immutable; may be shared across threads.
vj_picktree *vj_picktree_create(const vj_tree_key *keys, size_t count);

/// One walk over object and, for each picked key whose value is an object and
/// that has child keys, over that object: out[i] receives the first member
/// named by key i and found[i] is set to 1 (0 when absent or its parent is
/// absent or not an object). Returns the number of keys found; 0 when object
/// is not an object or tree is NULL.
size_t vj_pick_tree(vj_value object, const vj_picktree *tree, vj_value *out, uint8_t *found);

/// The first 16 bytes of a string of at most 15 bytes as two words (bytes
/// past the end are zero), read without touching memory beyond it.
static inline void vj_small_words(const uint8_t *p, size_t n, uint64_t *w0, uint64_t *w1) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        __builtin_memcpy(&a, p, 8);
        __builtin_memcpy(&b, p + n - 8, 8);  // overlaps a; n is part of the key
    } else if (n >= 4) {
        uint32_t x, y;
        __builtin_memcpy(&x, p, 4);
        __builtin_memcpy(&y, p + n - 4, 4);
        a = (uint64_t)x | ((uint64_t)y << 32);
    } else if (n > 0) {
        a = (uint64_t)p[0] | ((uint64_t)p[n / 2] << 8) | ((uint64_t)p[n - 1] << 16);
    }
    *w0 = a;
    *w1 = b;
}

/// A fast 64-bit hash of n bytes (four independent multiply lanes, so long
/// keys do not wait on one long chain of multiplications). Not for untrusted
/// collision resistance: callers compare the bytes on a hit.
static inline uint64_t vj_hash_bytes(const uint8_t *p, size_t n, uint64_t seed) {
    const uint64_t k = 0x9E3779B97F4A7C15ULL;
    uint64_t a = seed ^ (uint64_t)n, b = 0xBF58476D1CE4E5B9ULL, c = 0x94D049BB133111EBULL, d = 0xD6E8FEB86659FD93ULL;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w0, w1, w2, w3;
        __builtin_memcpy(&w0, p + i, 8);
        __builtin_memcpy(&w1, p + i + 8, 8);
        __builtin_memcpy(&w2, p + i + 16, 8);
        __builtin_memcpy(&w3, p + i + 24, 8);
        a = (a ^ w0) * k;
        b = (b ^ w1) * k;
        c = (c ^ w2) * k;
        d = (d ^ w3) * k;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        a = (a ^ w) * k;
        b ^= a >> 29;
    }
    if (i < n) {
        uint64_t w0 = 0, w1 = 0;
        if (n >= 8) {
            __builtin_memcpy(&w0, p + n - 8, 8);  // overlaps bytes already hashed
        } else {
            vj_small_words(p, n, &w0, &w1);
        }
        c = (c ^ w0) * k;
    }
    uint64_t h = a ^ ((b << 17) | (b >> 47)) ^ ((c << 31) | (c >> 33)) ^ ((d << 47) | (d >> 17));
    h ^= h >> 32;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
    return h;
}

/// Asks for the cache line at p ahead of its use (a cache table's entry,
/// looked up after other work); no effect on the program's meaning.
static inline void vj_prefetch(const void *p) { __builtin_prefetch(p); }

/// How vj_part_key reads a member.
enum vj_key_mode { VJ_KEY_STRING = 1, VJ_KEY_INT = 2, VJ_KEY_STRINGS = 3 };

/// Writes the key of an event part: for each of n members (values[positions[i]],
/// present when found[positions[i]]), read as modes[i]: absent or null ->
/// tag 0; a string -> tag 1, uint32 length, bytes; an int64 -> tag 2, 8, its
/// 8 bytes; an array of strings -> tag 4, length, bytes per element, then
/// tag 3 and the element count. Returns the key's length, or -1 when a member
/// has another type (the caller then reads it field by field, with its
/// warning) or the key does not fit in capacity.
ptrdiff_t vj_part_key(const vj_value *values, const uint8_t *found, const uint8_t *positions,
                      const uint8_t *modes, size_t n, uint8_t *out, size_t capacity);

/// vj_part_key for each of parts consecutive parts (part k holds members
/// ends[k - 1] ..< ends[k], from 0), written one after another into out, so
/// the whole is the key of all of them together and each part's key is a
/// slice of it: lengths[k] receives part k's length, or -1 when it is
/// unusable (it then takes no room). Returns the bytes written.
size_t vj_part_keys(const vj_value *values, const uint8_t *found, const uint8_t *positions,
                    const uint8_t *modes, const uint8_t *ends, size_t parts, uint8_t *out,
                    size_t capacity, ptrdiff_t *lengths);

/// The byte offsets, in buf (the input of the parser's last successful
/// vj_parse, len bytes), of the values of doc at the given tape positions
/// (vj_value.index, ascending; repeats allowed): a value's first character,
/// or for a container's closing position (vj_container_end) its closing
/// bracket. Walks stage 1's structural indexes beside the tape, checking each
/// against its tape word; false (offsets unset) when one does not match, a
/// position is out of order, or doc is not the parser's document.
bool vj_byte_offsets(const vj_parser *parser, const void *doc, const uint8_t *buf, size_t len,
                     const size_t *positions, size_t count, size_t *offsets);

/// The tape position of a container's closing bracket (value itself when it
/// is not an array or object).
static inline size_t vj_container_end(vj_value value) {
    uint64_t word = vj_tape_word(value);
    unsigned char type = (unsigned char)(word >> 56);
    return (type == '{' || type == '[') ? (size_t)(uint32_t)word - 1 : value.index;
}

/// Writes up to capacity elements of an array into out; returns the element
/// count (which may exceed capacity), or 0 when value is not an array.
size_t vj_array_elements(vj_value array, vj_value *out, size_t capacity);

/// Writes up to capacity fields of an object into out; returns the field
/// count (which may exceed capacity), or 0 when value is not an object.
size_t vj_object_fields(vj_value object, vj_field *out, size_t capacity);

/// Writes value as minified JSON into out (up to capacity bytes, not NUL-
/// terminated); returns the full length, which may exceed capacity.
size_t vj_serialize(vj_value value, char *out, size_t capacity);

/// Serializes value as minified JSON into a buffer owned by the calling
/// thread; *out stays valid until the thread's next vj_serialize_view call.
/// False when serialization failed (out of memory).
bool vj_serialize_view(vj_value value, const char **out, size_t *length);

#ifdef __cplusplus
}
#endif

#endif
