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

/// Looks up key in an object (first match). False when value is not an object
/// or has no such key.
bool vj_object_find(vj_value object, const char *key, size_t key_length, vj_value *out);

/// A key to pick out of an object.
typedef struct vj_key {
    const char *name;
    size_t length;
} vj_key;

/// A set of keys to pick out of objects (up to 64), built once.
typedef struct vj_keyset vj_keyset;

/// Builds a key set; the key names must outlive it. NULL when count > 64 or
/// allocation fails. Key sets are immutable and may be shared across threads.
vj_keyset *vj_keyset_create(const vj_key *keys, size_t count);

/// One pass over an object: for each key of the set (in creation order),
/// out[i] receives the first member with that key and found[i] is set to 1
/// (0 when absent). Returns the number of keys found; 0 when object is not an
/// object or set is NULL.
size_t vj_object_pick(vj_value object, const vj_keyset *set, vj_value *out, uint8_t *found);

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
