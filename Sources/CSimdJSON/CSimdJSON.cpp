// The C API of CSimdJSON.h over simdjson::dom. No exception leaves this file:
// simdjson's error-code API is used throughout, and the few calls that could
// throw (operator new) are caught.
#include "CSimdJSON.h"

#include <cstring>
#include <new>
#include <type_traits>

#include <simdjson.h>

using simdjson::dom::element;
using simdjson::dom::element_type;

struct vj_parser {
    simdjson::dom::parser parser;
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
    return seen == 3;
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

extern "C" int vj_parse(vj_parser *parser, const uint8_t *buf, size_t len, vj_value *root) {
    if (parser == nullptr || root == nullptr) { return VJ_ERR_INTERNAL; }
    try {
        static const uint8_t empty = 0;
        element e;
        auto error = parser->parser.parse(buf != nullptr ? buf : &empty, len, true).get(e);
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

static inline bool same_bytes(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) { return false; }
    }
    return true;
}

static inline uint64_t prefix8(const char *data, size_t n) {
    uint64_t v = 0;
    if (n >= 8) {
        std::memcpy(&v, data, 8);
    } else {
        for (size_t i = 0; i < n; i++) { v |= uint64_t(uint8_t(data[i])) << (8 * i); }
    }
    return v;
}

static inline size_t slot_of(uint64_t prefix, size_t n, size_t mask) {
    return size_t(((prefix ^ (uint64_t(n) << 56)) * 0x9E3779B97F4A7C15ULL) >> 40) & mask;
}

// A key set as an open-addressing table of (first 8 bytes, length) -> key
// position, so picking is one probe per object member. Each slot is 16 bytes
// (one cache line holds four), so a probe usually touches one line; the full
// names are read only to confirm a match of keys longer than 8 bytes.
struct vj_keyslot {
    uint64_t prefix;
    uint32_t length;
    int32_t index;  // -1: empty
};

struct vj_keyset {
    static constexpr size_t slots = 128;
    vj_keyslot table[slots];
    const char *names[64];
    size_t count;
};

extern "C" vj_keyset *vj_keyset_create(const vj_key *keys, size_t count) {
    if (count > 64) { return nullptr; }
    vj_keyset *set = new (std::nothrow) vj_keyset;
    if (set == nullptr) { return nullptr; }
    set->count = count;
    for (size_t s = 0; s < vj_keyset::slots; s++) { set->table[s] = vj_keyslot{0, 0, -1}; }
    for (size_t i = 0; i < count; i++) {
        set->names[i] = keys[i].name;
        if (keys[i].name == nullptr || keys[i].length > UINT32_MAX) { continue; }  // never matches
        uint64_t prefix = prefix8(keys[i].name, keys[i].length);
        size_t s = slot_of(prefix, keys[i].length, vj_keyset::slots - 1);
        while (set->table[s].index >= 0) { s = (s + 1) & (vj_keyset::slots - 1); }
        set->table[s] = vj_keyslot{prefix, uint32_t(keys[i].length), int32_t(i)};
    }
    return set;
}

extern "C" size_t vj_object_pick(vj_value object, const vj_keyset *set, vj_value *out, uint8_t *found) {
    if (set == nullptr) { return 0; }
    const size_t count = set->count;
    for (size_t i = 0; i < count; i++) { found[i] = 0; }
    simdjson::dom::object obj;
    if (count == 0 || to_element(object).get_object().get(obj)) { return 0; }
    size_t hits = 0;
    constexpr size_t mask = vj_keyset::slots - 1;
    for (auto field : obj) {
        const size_t n = field.key.size();
        const char *data = field.key.data();
        const uint64_t prefix = prefix8(data, n);
        for (size_t s = slot_of(prefix, n, mask); set->table[s].index >= 0; s = (s + 1) & mask) {
            const vj_keyslot &slot = set->table[s];
            if (slot.prefix == prefix && slot.length == n
                && (n <= 8 || same_bytes(set->names[slot.index] + 8, data + 8, n - 8))) {
                const size_t i = size_t(slot.index);
                if (!found[i]) {
                    out[i] = to_value(field.value);
                    found[i] = 1;
                    if (++hits == count) { return hits; }
                }
                break;
            }
        }
    }
    return hits;
}
