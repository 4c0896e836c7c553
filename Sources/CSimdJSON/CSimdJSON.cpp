// The C API of CSimdJSON.h over simdjson::dom. No exception leaves this file:
// simdjson's error-code API is used throughout, and the few calls that could
// throw (operator new) are caught.
#include "CSimdJSON.h"

#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <simdjson.h>

using simdjson::dom::element;
using simdjson::dom::element_type;

struct vj_parser {
    simdjson::dom::parser parser;
    // vj_parse_or_azure: a padded copy of a record that has no padding of its
    // own; the last Azure record or batch read, and its properties.log strings
    // unescaped.
    std::unique_ptr<uint8_t[]> copy, unescaped;
    size_t copy_capacity = 0, unescaped_capacity = 0;
    std::vector<vj_azure_record> read;
    explicit vj_parser(size_t max_capacity) : parser(max_capacity) {}
};

// A dom::element is a (document*, tape index) pair; vj_value carries the same
// bytes so Swift can hold it without C++ interop.
static_assert(sizeof(element) == sizeof(vj_value), "dom::element layout changed");
static_assert(std::is_trivially_copyable<element>::value, "dom::element not trivially copyable");

static inline element to_element(vj_value v) {
    element e;
    std::memcpy(static_cast<void *>(&e), &v, sizeof(e));
    return e;
}

static inline vj_value to_value(const element &e) {
    vj_value v;
    std::memcpy(&v, static_cast<const void *>(&e), sizeof(v));
    return v;
}


// Direct reads of simdjson's tape (the layout check below verifies them):
// an object's start word holds the tape index just past its end, whose last
// word is the closing brace; a key is a string word (offset into the string
// buffer, where a little-endian uint32 length precedes the bytes); a value
// takes two words when it is a number, up to its end when it is a container,
// one word otherwise.
namespace tape {
static inline const uint64_t *words(const void *doc) { return static_cast<const uint64_t *const *>(doc)[0]; }
static inline const uint8_t *strings(const void *doc) { return static_cast<const uint8_t *const *>(doc)[1]; }
static inline uint8_t type(uint64_t word) { return uint8_t(word >> 56); }
static inline size_t after(const uint64_t *t, size_t i) {
    switch (type(t[i])) {
    case '{': case '[': return uint32_t(t[i]);
    case 'l': case 'u': case 'd': return i + 2;
    default: return i + 1;
    }
}
static inline const char *key(const uint8_t *strings, uint64_t word, uint32_t *length) {
    const uint8_t *at = strings + (word & 0x00FFFFFFFFFFFFFFULL);
    std::memcpy(length, at, 4);
    return reinterpret_cast<const char *>(at + 4);
}
}  // namespace tape

// The tape walk above against simdjson's own object iteration, on a document
// with every kind of value, nested.
static bool check_tape_walk() {
    static const uint8_t probe[] =
        "{\"a\":1,\"bb\":-2,\"c\":2.5,\"d\":\"x\",\"e\":true,\"f\":null,\"g\":[1,[2],{\"h\":3}],"
        "\"i\":{\"j\":{\"k\":[]},\"l\":18446744073709551615},\"m\":{},\"n\":false}";
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(probe, sizeof(probe) - 1, true).get(root)) { return false; }
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) { return false; }
    vj_value rv = to_value(root);
    const uint64_t *t = tape::words(rv.doc);
    const uint8_t *strs = tape::strings(rv.doc);
    if (tape::type(t[rv.index]) != '{') { return false; }
    size_t end = uint32_t(t[rv.index]) - 1, j = rv.index + 1;
    if (tape::type(t[end]) != '}') { return false; }
    for (auto field : obj) {
        if (j >= end || tape::type(t[j]) != '"') { return false; }
        uint32_t n = 0;
        const char *k = tape::key(strs, t[j], &n);
        if (std::string_view(k, n) != field.key) { return false; }
        vj_value v = to_value(field.value);
        if (v.doc != rv.doc || v.index != j + 1) { return false; }
        j = tape::after(t, j + 1);
    }
    return j == end;
}

// The inline readers in CSimdJSON.h assume dom::document starts with its
// tape and string buffer pointers. Checked once per parser on a tiny document.
// Checked once per process, on a parser of its own.
static bool check_layout() {
    static const uint8_t probe[] = "[\"ab\",1,{}]";
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(probe, sizeof(probe) - 1, true).get(root)) { return false; }
    const auto *doc = &parser.doc;
    const void *const *words = reinterpret_cast<const void *const *>(doc);
    if (words[0] != static_cast<const void *>(doc->tape.get())
        || words[1] != static_cast<const void *>(doc->string_buf.get())) {
        return false;
    }
    simdjson::dom::array arr;
    if (root.get_array().get(arr)) { return false; }
    int seen = 0;
    for (element e : arr) {
        vj_value v = to_value(e);
        if (vj_type_fast(v) != vj_type(v)) { return false; }
        const char *a = nullptr, *b = nullptr;
        size_t na = 0, nb = 0;
        bool fa = vj_get_string_fast(v, &a, &na), fb = vj_get_string(v, &b, &nb);
        if (fa != fb || (fa && (a != b || na != nb))) { return false; }
        seen++;
    }
    if (seen != 3) { return false; }
    return check_tape_walk();
}

static bool layout_holds() {
    try {
        static const bool holds = check_layout();  // thread-safe static init
        return holds;
    } catch (...) {
        return false;
    }
}

extern "C" vj_parser *vj_parser_create(size_t max_capacity, size_t max_depth) {
    try {
        vj_parser *p = new (std::nothrow) vj_parser(max_capacity);
        if (p == nullptr) { return nullptr; }
        size_t initial = max_capacity < 64 * 1024 ? max_capacity : 64 * 1024;
        if (p->parser.allocate(initial, max_depth) != simdjson::SUCCESS) {
            delete p;
            return nullptr;
        }
        if (!layout_holds()) {
            delete p;
            return nullptr;
        }
        return p;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void vj_parser_destroy(vj_parser *parser) { delete parser; }

static int map_error(simdjson::error_code code) {
    switch (code) {
    case simdjson::SUCCESS: return VJ_OK;
    case simdjson::CAPACITY: return VJ_ERR_CAPACITY;
    case simdjson::DEPTH_ERROR: return VJ_ERR_DEPTH;
    case simdjson::UTF8_ERROR: return VJ_ERR_UTF8;
    case simdjson::EMPTY: return VJ_ERR_EMPTY;
    case simdjson::MEMALLOC: return VJ_ERR_MEMORY;
    default: return VJ_ERR_SYNTAX;
    }
}

static_assert(VJ_PADDING == simdjson::SIMDJSON_PADDING, "VJ_PADDING is simdjson's padding");

static int parse(vj_parser *parser, const uint8_t *buf, size_t len, bool copy, vj_value *root) {
    if (parser == nullptr || root == nullptr) { return VJ_ERR_INTERNAL; }
    try {
        static const uint8_t empty[VJ_PADDING + 1] = {0};
        element e;
        auto error = parser->parser.parse(buf != nullptr ? buf : empty, buf != nullptr ? len : 0, copy).get(e);
        if (error) { return map_error(error); }
        *root = to_value(e);
        return VJ_OK;
    } catch (...) {
        return VJ_ERR_INTERNAL;
    }
}

extern "C" int vj_parse(vj_parser *parser, const uint8_t *buf, size_t len, vj_value *root) {
    return parse(parser, buf, len, true, root);
}

extern "C" int vj_parse_in_place(vj_parser *parser, const uint8_t *buf, size_t len, vj_value *root) {
    return parse(parser, buf, len, false, root);
}

extern "C" int vj_parse_embedded(vj_parser *parser, vj_value string, vj_value *root) {
    const char *text = nullptr;
    size_t length = 0;
    if (parser == nullptr || root == nullptr || !vj_get_string_fast(string, &text, &length)) {
        return VJ_ERR_INTERNAL;
    }
    // A document's string buffer holds 5 * capacity / 3 + SIMDJSON_PADDING
    // bytes (document::allocate), so a string ending within the first
    // 5 * capacity / 3 has the padding simdjson may read past its end.
    const auto *doc = static_cast<const simdjson::dom::document *>(string.doc);
    const size_t end = size_t(reinterpret_cast<const uint8_t *>(text) + length - doc->string_buf.get());
    const bool padded = end <= 5 * doc->capacity() / 3;
    try {
        element e;
        auto error = parser->parser.parse(reinterpret_cast<const uint8_t *>(text), length, !padded).get(e);
        if (error) { return map_error(error); }
        *root = to_value(e);
        return VJ_OK;
    } catch (...) {
        return VJ_ERR_INTERNAL;
    }
}

extern "C" const char *vj_error_message(int code) {
    switch (code) {
    case VJ_OK: return "no error";
    case VJ_ERR_CAPACITY: return "document larger than the parser's capacity";
    case VJ_ERR_DEPTH: return "document nested deeper than the maximum depth";
    case VJ_ERR_UTF8: return "invalid UTF-8";
    case VJ_ERR_EMPTY: return "no JSON value";
    case VJ_ERR_MEMORY: return "out of memory";
    case VJ_ERR_SYNTAX: return "malformed JSON";
    default: return "internal parser error";
    }
}

extern "C" int vj_type(vj_value value) {
    switch (to_element(value).type()) {
    case element_type::ARRAY: return VJ_ARRAY;
    case element_type::OBJECT: return VJ_OBJECT;
    case element_type::INT64: return VJ_INT64;
    case element_type::UINT64: return VJ_UINT64;
    case element_type::DOUBLE: return VJ_DOUBLE;
    case element_type::STRING: return VJ_STRING;
    case element_type::BOOL: return VJ_BOOL;
    default: return VJ_NULL;
    }
}

extern "C" bool vj_get_string(vj_value value, const char **out, size_t *length) {
    std::string_view s;
    if (to_element(value).get_string().get(s)) { return false; }
    *out = s.data();
    *length = s.size();
    return true;
}

extern "C" bool vj_get_int64(vj_value value, int64_t *out) {
    return !to_element(value).get_int64().get(*out);
}

extern "C" bool vj_get_uint64(vj_value value, uint64_t *out) {
    return !to_element(value).get_uint64().get(*out);
}

extern "C" bool vj_get_double(vj_value value, double *out) {
    return !to_element(value).get_double().get(*out);
}

extern "C" bool vj_get_bool(vj_value value, bool *out) {
    return !to_element(value).get_bool().get(*out);
}

extern "C" bool vj_object_find(vj_value object, const char *key, size_t key_length, vj_value *out) {
    simdjson::dom::object obj;
    if (to_element(object).get_object().get(obj)) { return false; }
    std::string_view wanted(key, key_length);
    for (auto field : obj) {
        if (field.key == wanted) {
            *out = to_value(field.value);
            return true;
        }
    }
    return false;
}

extern "C" size_t vj_array_elements(vj_value array, vj_value *out, size_t capacity) {
    simdjson::dom::array arr;
    if (to_element(array).get_array().get(arr)) { return 0; }
    size_t count = 0;
    for (element e : arr) {
        if (count < capacity) { out[count] = to_value(e); }
        count++;
    }
    return count;
}

extern "C" size_t vj_object_fields(vj_value object, vj_field *out, size_t capacity) {
    simdjson::dom::object obj;
    if (to_element(object).get_object().get(obj)) { return 0; }
    size_t count = 0;
    for (auto field : obj) {
        if (count < capacity) {
            out[count].key = field.key.data();
            out[count].key_length = field.key.size();
            out[count].value = to_value(field.value);
        }
        count++;
    }
    return count;
}

extern "C" size_t vj_serialize(vj_value value, char *out, size_t capacity) {
    try {
        std::string text = simdjson::minify(to_element(value));
        size_t n = text.size() < capacity ? text.size() : capacity;
        if (n > 0 && out != nullptr) { std::memcpy(out, text.data(), n); }
        return text.size();
    } catch (...) {
        return 0;
    }
}

extern "C" bool vj_serialize_view(vj_value value, const char **out, size_t *length) {
    try {
        // One builder per thread, reused: its buffer keeps its capacity.
        thread_local simdjson::internal::string_builder<> builder;
        builder.clear();
        builder.append(to_element(value));
        std::string_view text = builder.str();
        *out = text.data();
        *length = text.size();
        return true;
    } catch (...) {
        return false;
    }
}

// The structural character stage 1 recorded for a tape word: every value
// has one (a string its opening quote, a number its first character); ':' and
// ',' have no tape word.
static inline bool structural_matches(uint8_t c, uint8_t type) {
    switch (type) {
    case '{': case '}': case '[': case ']': case '"': case 't': case 'f': case 'n': return c == type;
    case 'l': case 'u': case 'd': return c == '-' || (c >= '0' && c <= '9');
    default: return false;
    }
}

extern "C" bool vj_byte_offsets(const vj_parser *parser, const void *doc, const uint8_t *buf, size_t len,
                                const size_t *positions, size_t count, size_t *offsets) {
    if (parser == nullptr || buf == nullptr || !parser->parser.implementation
        || doc != static_cast<const void *>(&parser->parser.doc)) {
        return false;
    }
    const auto &impl = *parser->parser.implementation;
    const uint32_t *si = impl.structural_indexes.get();
    const size_t n = impl.n_structural_indexes;
    const uint64_t *t = parser->parser.doc.tape.get();
    if (si == nullptr || t == nullptr) { return false; }
    // Tape word 0 is the root word; the document's first value is word 1,
    // stage 1's first structural.
    size_t i = 1, s = 0;
    for (size_t k = 0; k < count; k++) {
        const size_t target = positions[k];
        if (k > 0 && target == positions[k - 1]) { offsets[k] = offsets[k - 1]; continue; }
        if (target < i) { return false; }
        for (;;) {
            while (s < n && si[s] < len && (buf[si[s]] == ':' || buf[si[s]] == ',')) { s++; }
            if (s >= n || si[s] >= len) { return false; }
            const uint8_t type = tape::type(t[i]);
            if (!structural_matches(buf[si[s]], type)) { return false; }
            if (i == target) { break; }
            i += (type == 'l' || type == 'u' || type == 'd') ? 2 : 1;
            s++;
            if (i > target) { return false; }
        }
        offsets[k] = si[s];
    }
    return true;
}

static inline size_t slot_of(uint64_t prefix, size_t n, size_t mask) {
    // The length must reach the slot bits: keys often share their first 8
    // bytes ("authorization.k8s.io/decision" and ".../reason").
    uint64_t x = (prefix + uint64_t(n) * 0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL;
    return size_t(x >> 40) & mask;
}

// A key's first 8 bytes as a word, zero past its end (for the table).
static inline uint64_t key_word(const char *p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n < 8 ? n : 8);
    return v;
}

// The same for a key in a document's string buffer, with one 8-byte load: a
// string there is followed by its NUL and the buffer keeps SIMDJSON_PADDING
// bytes past the longest possible content, so reading 8 bytes from the start
// of any key stays inside the buffer.
static inline uint64_t doc_key_word(const char *p, size_t n) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return n >= 8 ? v : v & ((uint64_t(1) << (8 * n)) - 1);
}

// A pick tree: per object level (the root's keys, and the child keys of each
// key that has some) a small open-addressing table of key positions (one
// byte a slot, so a level's table is four cache lines); the keys' first words
// and lengths are read only on a slot hit.
struct vj_picktree {
    static constexpr size_t max_keys = 128, max_tables = 33, slots = 256;
    static constexpr uint8_t empty = 0xFF;
    uint8_t tables[max_tables][slots];
    uint64_t prefix[max_keys];
    uint32_t length[max_keys];
    int16_t child_table[max_keys];  // table of key i's children; -1: none
    const char *names[max_keys];
    size_t count;
};

extern "C" vj_picktree *vj_picktree_create(const vj_tree_key *keys, size_t count) {
    if (count > vj_picktree::max_keys) { return nullptr; }
    vj_picktree *tree = new (std::nothrow) vj_picktree;
    if (tree == nullptr) { return nullptr; }
    tree->count = count;
    size_t tables = 1;
    std::memset(tree->tables, vj_picktree::empty, sizeof(tree->tables));
    for (size_t i = 0; i < count; i++) { tree->child_table[i] = -1; }
    for (size_t i = 0; i < count; i++) {
        tree->names[i] = keys[i].name;
        tree->prefix[i] = 0;
        tree->length[i] = UINT32_MAX;  // never matches
        int32_t parent = keys[i].parent;
        size_t table = 0;
        if (parent >= 0) {
            if (size_t(parent) >= i) { delete tree; return nullptr; }
            if (tree->child_table[parent] < 0) {
                if (tables == vj_picktree::max_tables) { delete tree; return nullptr; }
                tree->child_table[parent] = int16_t(tables++);
            }
            table = size_t(tree->child_table[parent]);
        }
        if (keys[i].name == nullptr || keys[i].length >= UINT32_MAX) { continue; }
        tree->prefix[i] = key_word(keys[i].name, keys[i].length);
        tree->length[i] = uint32_t(keys[i].length);
        uint8_t *slots = tree->tables[table];
        size_t s = slot_of(tree->prefix[i], keys[i].length, vj_picktree::slots - 1);
        while (slots[s] != vj_picktree::empty) { s = (s + 1) & (vj_picktree::slots - 1); }  // < 128 keys: never full
        slots[s] = uint8_t(i);
    }
    return tree;
}

static inline bool same_tail(const char *a, const char *b, size_t n) {
    // Bytes 8..<n of two keys (n > 8), 8 at a time; the last load overlaps.
    size_t i = 8;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (x != y) { return false; }
    }
    if (i == n) { return true; }
    uint64_t x, y;
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
}

static void pick_level(const void *doc, const uint64_t *t, const uint8_t *strs, size_t object,
                       const vj_picktree *tree, const uint8_t *slots, vj_value *out, uint8_t *found,
                       size_t &hits) {
    constexpr size_t mask = vj_picktree::slots - 1;
    const size_t end = uint32_t(t[object]) - 1;
    size_t j = object + 1;
    while (j < end) {
        uint32_t n = 0;
        const char *data = tape::key(strs, t[j], &n);
        const size_t v = j + 1;
        const uint64_t prefix = doc_key_word(data, n);
        for (size_t s = slot_of(prefix, n, mask); slots[s] != vj_picktree::empty; s = (s + 1) & mask) {
            const size_t i = slots[s];
            if (tree->prefix[i] == prefix && tree->length[i] == n
                && (n <= 8 || same_tail(tree->names[i], data, n))) {
                if (!found[i]) {
                    out[i] = vj_value{doc, v};
                    found[i] = 1;
                    hits++;
                    const int16_t child = tree->child_table[i];
                    if (child >= 0 && tape::type(t[v]) == '{') {
                        pick_level(doc, t, strs, v, tree, tree->tables[child], out, found, hits);
                    }
                }
                break;
            }
        }
        j = tape::after(t, v);
    }
}

extern "C" size_t vj_pick_tree(vj_value object, const vj_picktree *tree, vj_value *out, uint8_t *found) {
    if (tree == nullptr) { return 0; }
    std::memset(found, 0, tree->count);
    const uint64_t *t = tape::words(object.doc);
    if (tree->count == 0 || tape::type(t[object.index]) != '{') { return 0; }
    size_t hits = 0;
    pick_level(object.doc, t, tape::strings(object.doc), object.index, tree, tree->tables[0], out, found, hits);
    return hits;
}

namespace {
struct key_writer {
    uint8_t *out;
    size_t capacity, count = 0;
    bool put(uint8_t tag, uint32_t length, const void *payload, size_t payload_length) {
        if (capacity - count < 5 || capacity - count - 5 < payload_length) { return false; }
        out[count] = tag;
        std::memcpy(out + count + 1, &length, 4);
        if (payload_length > 0) { std::memcpy(out + count + 5, payload, payload_length); }
        count += 5 + payload_length;
        return true;
    }
    // A string of a document's string buffer (tag, length, bytes): one of up
    // to 32 bytes is copied as two fixed 16-byte moves instead of a memcpy
    // call. Reading up to 32 bytes from its start stays inside the buffer
    // (each string ends with a NUL and the buffer keeps SIMDJSON_PADDING
    // bytes past the longest content), and the writes past the string's end
    // stay inside out (checked) and are overwritten by the next member or
    // lie past the key's length.
    bool put_string(uint8_t tag, const char *data, uint32_t length) {
        if (length > 32 || capacity - count < size_t(5 + 32)) { return put(tag, length, data, length); }
        uint8_t *o = out + count;
        o[0] = tag;
        std::memcpy(o + 1, &length, 4);
        std::memcpy(o + 5, data, 16);
        if (length > 16) { std::memcpy(o + 21, data + 16, 16); }
        count += 5 + size_t(length);
        return true;
    }
};
}  // namespace

extern "C" ptrdiff_t vj_part_key(const vj_value *values, const uint8_t *found, const uint8_t *positions,
                                 const uint8_t *modes, size_t n, uint8_t *out, size_t capacity) {
    key_writer w{out, capacity};
    for (size_t i = 0; i < n; i++) {
        const size_t at = positions[i];
        if (!found[at]) {
            if (!w.put(0, 0, nullptr, 0)) { return -1; }
            continue;
        }
        const vj_value v = values[at];
        const uint64_t *t = tape::words(v.doc);
        const uint8_t *strs = tape::strings(v.doc);
        const uint64_t word = t[v.index];
        const uint8_t type = tape::type(word);
        bool ok = false;
        if (type == 'n') {
            ok = w.put(0, 0, nullptr, 0);
        } else if (modes[i] == VJ_KEY_STRING && type == '"') {
            uint32_t len = 0;
            const char *data = tape::key(strs, word, &len);
            ok = w.put_string(1, data, len);
        } else if (modes[i] == VJ_KEY_INT && type == 'l') {
            ok = w.put(2, 8, &t[v.index + 1], 8);
        } else if (modes[i] == VJ_KEY_STRINGS && type == '[') {
            const size_t end = uint32_t(word) - 1;
            uint32_t elements = 0;
            ok = true;
            for (size_t j = v.index + 1; ok && j < end; j = tape::after(t, j)) {
                if (tape::type(t[j]) != '"') { return -1; }
                uint32_t len = 0;
                const char *data = tape::key(strs, t[j], &len);
                ok = w.put_string(4, data, len);
                elements++;
            }
            ok = ok && w.put(3, elements, nullptr, 0);
        }
        if (!ok) { return -1; }
    }
    return ptrdiff_t(w.count);
}

extern "C" size_t vj_part_keys(const vj_value *values, const uint8_t *found, const uint8_t *positions,
                               const uint8_t *modes, const uint8_t *ends, size_t parts, uint8_t *out,
                               size_t capacity, ptrdiff_t *lengths) {
    size_t written = 0, start = 0;
    for (size_t k = 0; k < parts; k++) {
        const ptrdiff_t n = vj_part_key(values, found, positions + start, modes + start, ends[k] - start,
                                        out + written, capacity - written);
        lengths[k] = n;
        if (n > 0) { written += size_t(n); }
        start = ends[k];
    }
    return written;
}

// ---- Azure diagnostic records without their document ------------------------
//
// An AKS record is a small envelope around properties.log, an audit Event as a
// JSON string of ~1 KB with a backslash before every quote. Building the
// envelope's document spends most of its time unescaping that string (simdjson
// handles one escape per step), and the decoder then parses the string again.
// vj_parse_or_azure runs stage 1 only, reads the envelopes (one, or an Event
// Hubs batch of them) from the structural indexes, and unescapes each log 64
// bytes a step (AVX-512 VBMI2 compress); on anything it does not take (see
// reader::members) it runs stage 2 on the same stage 1 and returns the
// document, as vj_parse does. The two stages apart go through
// dom::parser::implementation, public in simdjson 3.0.1 ("for benchmarking
// access"), as vj_byte_offsets's structural indexes do: a simdjson that hides
// it fails this file's build, not a record.

namespace azure {
static inline bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The content of the string whose opening quote is at `open`, given where the
// next structural is: stage 1 leaves only whitespace between a string's closing
// quote and the next structural (anything else starts a structural itself).
static inline bool string_at(const uint8_t *buf, size_t open, size_t next, size_t *start, size_t *length) {
    size_t k = next;
    while (k > open + 1 && is_space(buf[k - 1])) { k--; }
    if (k <= open + 1 || buf[k - 1] != '"') { return false; }
    *start = open + 1;
    *length = k - 1 - (open + 1);
    return true;
}

static inline bool has_backslash(const uint8_t *p, size_t n) { return n > 0 && std::memchr(p, '\\', n) != nullptr; }

static inline bool named(const uint8_t *p, size_t n, const char *name, size_t length) {
    return n == length && std::memcmp(p, name, length) == 0;
}

enum key { other, category, resource_id, p_source_label, time, properties, log, p_log_type, shape, keys };

// An envelope's members the decoder reads. A record alone (not a batch element) is
// detected by its members, so one that names a member of another shape is left to
// the document, and p_log_type must declare it Azure.MonitorActivity.
static inline key top_key(const uint8_t *p, size_t n, bool alone) {
    if (named(p, n, "category", 8)) { return category; }
    if (named(p, n, "resourceId", 10)) { return resource_id; }
    if (named(p, n, "p_source_label", 14)) { return p_source_label; }
    if (named(p, n, "time", 4)) { return time; }
    if (named(p, n, "properties", 10)) { return properties; }
    if (!alone) { return other; }
    if (named(p, n, "p_log_type", 10)) { return p_log_type; }
    if (named(p, n, "records", 7) || named(p, n, "messageType", 11) || named(p, n, "logEvents", 9)
        || named(p, n, "protoPayload", 12)) {
        return shape;
    }
    return other;
}

struct span { size_t start = 0, length = SIZE_MAX; };

struct envelope {
    span members[keys];  // the first of each key (as the decoder's pick does)
    bool properties_seen = false;
    size_t open = 0, close = 0;  // byte offsets of its braces
};

// Reads structurals from s on: the grammar of envelopes whose members are strings,
// arrays of strings (Panther's p_any_* fields) and one properties object of string
// members; strings without escapes except properties.log, which appears once. Anything
// else returns false.
struct reader {
    const uint8_t *buf;
    const uint32_t *si;
    size_t n, s = 0;

    bool is(uint8_t c) const { return s < n && buf[si[s]] == c; }

    bool string(span &out, bool escapes) {
        size_t start, length;
        if (!is('"') || s + 1 >= n || !string_at(buf, si[s], si[s + 1], &start, &length)) { return false; }
        if (!escapes && has_backslash(buf + start, length)) { return false; }
        out = span{start, length};
        s++;
        return true;
    }

    bool strings() {  // an array of strings, from its '['
        s++;
        if (is(']')) { s++; return true; }
        for (span x;;) {
            if (!string(x, false)) { return false; }
            if (is(',')) { s++; continue; }
            if (is(']')) { s++; return true; }
            return false;
        }
    }

    // An object's members, from past its '{' to past its '}'.
    bool members(envelope &e, bool top, bool alone) {
        if (is('}')) { s++; return true; }
        for (;;) {
            span k;
            if (!string(k, false) || !is(':')) { return false; }
            s++;
            const key which = top ? top_key(buf + k.start, k.length, alone)
                                  : (named(buf + k.start, k.length, "log", 3) ? log : other);
            if (which == shape) { return false; }
            if (is('"')) {
                span v;
                if (which == properties || !string(v, which == log)) { return false; }
                if (which == p_log_type && !named(buf + v.start, v.length, "Azure.MonitorActivity", 21)) { return false; }
                if (e.members[which].length == SIZE_MAX) {
                    e.members[which] = v;
                } else if (which == log) {
                    return false;  // only the first log is unescaped, which is what checks its escapes
                }
            } else if (is('{') && which == properties && !e.properties_seen) {
                e.properties_seen = true;
                s++;
                if (!members(e, false, alone)) { return false; }
            } else if (!(is('[') && top && which == other && strings())) {
                return false;
            }
            if (is(',')) { s++; continue; }
            if (is('}')) { s++; return true; }
            return false;
        }
    }

    bool read(envelope &e, bool alone) {
        if (!is('{')) { return false; }
        e.open = si[s];
        s++;
        if (!members(e, true, alone)) { return false; }
        e.close = si[s - 1];
        return true;
    }
};

#if defined(__x86_64__)
// properties.log's escapes as they unescape (0: not taken here, \u among them).
struct escape_table {
    alignas(64) uint8_t to[128] = {};
    constexpr escape_table() {
        to[uint8_t('"')] = '"';
        to[uint8_t('/')] = '/';
        to[uint8_t('\\')] = '\\';
        to[uint8_t('b')] = '\b';
        to[uint8_t('f')] = '\f';
        to[uint8_t('n')] = '\n';
        to[uint8_t('r')] = '\r';
        to[uint8_t('t')] = '\t';
    }
};
static constexpr escape_table escapes{};

// simdjson's escape scan: of the backslashes in a 64-byte block (prev: the
// block's first byte follows an escaping backslash), the bytes they escape.
static inline uint64_t escaped_bytes(uint64_t backslash, uint64_t &prev) {
    backslash &= ~prev;
    const uint64_t follows = backslash << 1 | prev;
    const uint64_t even = 0x5555555555555555ULL;
    const uint64_t odd_starts = backslash & ~even & ~follows;
    uint64_t even_starts;
    prev = __builtin_add_overflow(odd_starts, backslash, &even_starts) ? 1 : 0;
    return (even ^ (even_starts << 1)) & follows;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,popcnt")))
static bool unescape_vbmi2(const uint8_t *src, size_t n, uint8_t *dst, size_t *written) {
    const __m512i low = _mm512_load_si512(escapes.to), high = _mm512_load_si512(escapes.to + 64);
    const __m512i backslash = _mm512_set1_epi8('\\');
    uint64_t prev = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 64) {
        const size_t take = n - i < 64 ? n - i : 64;
        const __mmask64 m = take == 64 ? ~__mmask64(0) : (__mmask64(1) << take) - 1;
        __m512i v = _mm512_maskz_loadu_epi8(m, src + i);
        const uint64_t bs = _mm512_mask_cmpeq_epi8_mask(m, v, backslash);
        if (bs == 0 && prev == 0) {
            _mm512_mask_storeu_epi8(dst + o, m, v);
            o += take;
            continue;
        }
        const uint64_t esc = escaped_bytes(bs, prev);
        if (esc & ~m) { return false; }  // a backslash at the end escapes nothing
        const __m512i mapped = _mm512_permutex2var_epi8(low, v, high);
        const uint64_t known = _mm512_test_epi8_mask(mapped, mapped) & ~uint64_t(_mm512_movepi8_mask(v));
        if (esc & ~known) { return false; }
        v = _mm512_mask_mov_epi8(v, esc, mapped);
        const uint64_t keep = m & ~(bs & ~esc);
        _mm512_mask_compressstoreu_epi8(dst + o, keep, v);
        o += size_t(__builtin_popcountll(keep));
    }
    if (prev != 0) { return false; }
    *written = o;
    return true;
}

static bool vbmi2() {
    static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2");
    return supported;
}
#endif

static bool unescape(const uint8_t *src, size_t n, uint8_t *dst, size_t *written) {
    if (!has_backslash(src, n)) {
        if (n > 0) { std::memcpy(dst, src, n); }
        *written = n;
        return true;
    }
#if defined(__x86_64__)
    if (vbmi2()) { return unescape_vbmi2(src, n, dst, written); }
#endif
    return false;  // the document's own unescaping is as fast without VBMI2
}
}  // namespace azure

extern "C" bool vj_unescape_fast(const uint8_t *src, size_t n, uint8_t *dst, size_t *written) {
    return azure::unescape(src, n, dst, written);
}

static bool ensure(std::unique_ptr<uint8_t[]> &buffer, size_t &capacity, size_t need) {
    if (capacity >= need) { return true; }
    buffer.reset(new (std::nothrow) uint8_t[need]);
    capacity = buffer ? need : 0;
    return buffer != nullptr;
}

// One diagnostic record or an Event Hubs batch ({"records": [...]} and nothing
// else) of them, into parser->read, each log unescaped into parser->unescaped
// with the padding after it.
static bool read_azure(vj_parser *parser, const uint8_t *buf, const uint32_t *si, size_t n, size_t max_depth,
                       vj_azure_read *out) {
    azure::reader r{buf, si, n};
    auto &read = parser->read;
    read.clear();
    size_t room = 0;  // for the logs unescaped (never longer than as written), each with its padding
    auto take = [&](const azure::envelope &e) {
        auto member = [&](azure::key k) { return vj_span{e.members[k].start, e.members[k].length}; };
        // log: where it is written, until it is unescaped below.
        read.push_back(vj_azure_record{e.open, e.close + 1, member(azure::category), member(azure::resource_id),
                                       member(azure::p_source_label), member(azure::time), member(azure::log)});
        const size_t log = e.members[azure::log].length;
        room += (log == SIZE_MAX ? 0 : log) + simdjson::SIMDJSON_PADDING;
    };
    azure::span first;
    const bool batch = n > 4 && buf[si[0]] == '{' && (r.s = 1, r.string(first, false))
        && azure::named(buf + first.start, first.length, "records", 7) && r.is(':') && buf[si[3]] == '[';
    // Stage 2 fails a document whose non-empty containers nest max_depth deep: a record
    // alone nests 2 (the record, properties or an array), a batch 4 (and the batch, records).
    if (max_depth < (batch ? 5 : 3)) { return false; }
    if (batch) {
        r.s = 4;
        for (;;) {
            azure::envelope e;
            if (!r.read(e, false)) { return false; }
            take(e);
            if (r.is(',')) { r.s++; continue; }
            if (r.is(']')) { r.s++; break; }
            return false;
        }
        if (!r.is('}') || r.s + 1 != n) { return false; }
    } else {
        r.s = 0;
        azure::envelope e;
        if (!r.read(e, true) || r.s != n) { return false; }
        // Detection takes a record alone for an Azure one by these members (else it may be another shape).
        if (e.members[azure::category].length == SIZE_MAX && e.members[azure::resource_id].length == SIZE_MAX
            && e.members[azure::log].length == SIZE_MAX) {
            return false;
        }
        take(e);
    }
    if (!ensure(parser->unescaped, parser->unescaped_capacity, room)) { return false; }
    size_t at = 0;
    for (auto &record : read) {
        // Every log is unescaped, the skipped categories' too: the unescaping is what checks
        // its escapes, as stage 2 would (one it does not take leaves the record to stage 2).
        if (record.log.length == SIZE_MAX) { continue; }
        size_t written = 0;
        if (!azure::unescape(buf + record.log.start, record.log.length, parser->unescaped.get() + at, &written)) {
            return false;
        }
        std::memset(parser->unescaped.get() + at + written, 0, simdjson::SIMDJSON_PADDING);
        record.log = vj_span{at, written};
        at += written + simdjson::SIMDJSON_PADDING;
    }
    out->records = read.data();
    out->count = read.size();
    out->batch = batch;
    out->logs = parser->unescaped.get();
    return true;
}

extern "C" int vj_parse_or_azure(vj_parser *parser, const uint8_t *buf, size_t len, bool in_place,
                                 vj_azure_read *read, vj_value *root) {
    if (parser == nullptr || root == nullptr || read == nullptr) { return VJ_ERR_INTERNAL; }
    if (buf == nullptr || len == 0) { return parse(parser, buf, len, !in_place, root); }
    try {
        auto &p = parser->parser;
        // parser::parse's own preparation (ensure_capacity, the copy), then its two stages apart.
        const size_t need = len < 32 ? 32 : len;  // simdjson's MINIMAL_DOCUMENT_CAPACITY
        if (p.capacity() < need || p.doc.capacity() < need) {
            if (need > p.max_capacity()) { return VJ_ERR_CAPACITY; }
            if (p.doc.capacity() < need && p.doc.allocate(need) != simdjson::SUCCESS) { return VJ_ERR_MEMORY; }
            if (p.capacity() < need && p.allocate(need, p.max_depth()) != simdjson::SUCCESS) { return VJ_ERR_MEMORY; }
        }
        if (!in_place) {
            if (!ensure(parser->copy, parser->copy_capacity, len + simdjson::SIMDJSON_PADDING)) { return VJ_ERR_MEMORY; }
            std::memcpy(parser->copy.get(), buf, len);
            std::memset(parser->copy.get() + len, 0, simdjson::SIMDJSON_PADDING);
            buf = parser->copy.get();
        }
        auto &impl = *p.implementation;
        auto error = impl.stage1(buf, len, simdjson::stage1_mode::regular);
        if (error) { return map_error(error); }
        // What the reading saves grows with the logs' length, what it costs with the structurals:
        // it is tried only on records of more than 16 bytes a structural, as long strings make them
        // (an audit Event, a Cloud Audit Log entry or an ECS event has one every 6-10 bytes).
        const size_t n = impl.n_structural_indexes;
        if (len > 16 * n && read_azure(parser, buf, impl.structural_indexes.get(), n, p.max_depth(), read)) {
            read->base = buf;
            return VJ_AZURE;
        }
        error = impl.stage2(p.doc);
        if (error) { return map_error(error); }
        *root = to_value(p.doc.root());
        return VJ_OK;
    } catch (...) {
        return VJ_ERR_INTERNAL;
    }
}
