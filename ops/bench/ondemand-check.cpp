// The On-Demand check of decode.md (session 14): is simdjson's On-Demand API a lever for the
// decoder? Compares, on the bench mix's fixture lines (600-3000 bytes, as vigil-bench decode
// loads them), a DOM parse alone, a DOM parse plus a walk that picks the members the decoders
// read (the same keys as their pick trees, nested objects, AKS's properties.log parsed again),
// and On-Demand iteration doing the same picks. Not part of the build.
//
//   g++ -O3 -std=c++17 -o /tmp/ondemand ops/bench/ondemand-check.cpp -lsimdjson
//   /tmp/ondemand Tests/AuditEventsTests/Fixtures
#include <simdjson.h>
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>
#include <memory>
using namespace simdjson;

struct Node { std::unordered_map<std::string_view, std::unique_ptr<Node>> kids; bool embedded = false; };
static Node root;
static void add(std::initializer_list<const char*> path, bool embedded = false) {
  Node *n = &root;
  for (auto p : path) { auto &k = n->kids[std::string_view(p)]; if (!k) k = std::make_unique<Node>(); n = k.get(); }
  n->embedded = embedded;
}
static uint64_t sink = 0;
static void use(std::string_view s) { sink += s.size() + (s.empty() ? 0 : (unsigned char)s[0]); }

// ---- DOM
static dom::parser dp2;
static void domWalk(dom::element e, const Node &spec);
static void domValue(dom::element v, const Node &spec) {
  if (!spec.kids.empty()) { if (v.is_object()) domWalk(v, spec); return; }
  switch (v.type()) {
  case dom::element_type::STRING: {
    std::string_view s = v.get_string().value_unsafe(); use(s);
    if (spec.embedded) { // nested JSON in a string
      padded_string ps(s); dom::element r; if (!dp2.parse(ps).get(r)) domWalk(r, root);
    }
    break; }
  case dom::element_type::INT64: sink += int64_t(v); break;
  case dom::element_type::ARRAY: for (auto x : dom::array(v)) { std::string_view s; if (!x.get_string().get(s)) use(s); } break;
  default: break;
  }
}
static void domWalk(dom::element e, const Node &spec) {
  dom::object o; if (e.get_object().get(o)) return;
  for (auto f : o) { auto it = spec.kids.find(f.key); if (it != spec.kids.end()) domValue(f.value, *it->second); }
}
// ---- On-Demand
static ondemand::parser op2;
static void odWalk(ondemand::object o, const Node &spec);
static void odValue(ondemand::value v, const Node &spec) {
  ondemand::json_type t; if (v.type().get(t)) return;
  if (!spec.kids.empty()) { if (t == ondemand::json_type::object) { ondemand::object o; if (!v.get_object().get(o)) odWalk(o, spec); } return; }
  switch (t) {
  case ondemand::json_type::string: { std::string_view s; if (v.get_string().get(s)) return; use(s);
    if (spec.embedded) { padded_string ps(s); ondemand::document d; if (!op2.iterate(ps).get(d)) { ondemand::object o; if (!d.get_object().get(o)) odWalk(o, root); } }
    break; }
  case ondemand::json_type::number: { int64_t i; if (!v.get_int64().get(i)) sink += i; break; }
  case ondemand::json_type::array: { ondemand::array a; if (v.get_array().get(a)) return; for (auto x : a) { std::string_view s; if (!x.get_string().get(s)) use(s); } break; }
  default: break;
  }
}
static void odWalk(ondemand::object o, const Node &spec) {
  for (auto field : o) {
    std::string_view k; if (field.unescaped_key().get(k)) return;
    auto it = spec.kids.find(k);
    if (it != spec.kids.end()) odValue(field.value(), *it->second);
  }
}

int main(int argc, char **argv) {
  for (auto k : {"auditID","stage","level","verb","requestURI","userAgent","requestReceivedTimestamp","stageTimestamp","timestamp","p_event_time","p_source_label","sourceIPs"}) add({k});
  for (auto k : {"username","uid","groups"}) add({"user", k});
  for (auto k : {"resource","subresource","namespace","name","apiGroup","apiVersion"}) add({"objectRef", k});
  for (auto k : {"code","status","reason","message"}) add({"responseStatus", k});
  for (auto k : {"authorization.k8s.io/decision","authorization.k8s.io/reason"}) add({"annotations", k});
  for (auto k : {"category","resourceId","time","operationName"}) add({k});
  add({"properties","log"}, true); add({"properties","pod"});
  for (auto k : {"serviceName","methodName","resourceName"}) add({"protoPayload", k});
  add({"protoPayload","authenticationInfo","principalEmail"});
  for (auto k : {"callerIp","callerIP","callerSuppliedUserAgent"}) add({"protoPayload","requestMetadata",k});
  add({"protoPayload","status","code"}); add({"protoPayload","status","message"});
  add({"resource","labels","cluster_name"}); add({"insertId"}); add({"logName"}); add({"severity"});

  std::vector<padded_string> recs;
  std::string base = argv[1];
  for (auto cloud : {"eks","aks","gke"}) {
    std::string dir = base + "/" + cloud; DIR *d = opendir(dir.c_str()); if (!d) continue;
    while (auto ent = readdir(d)) { std::string n = ent->d_name; if (n.size() < 6 || n.substr(n.size()-6) != ".jsonl") continue;
      std::ifstream f(dir + "/" + n); std::string line; while (std::getline(f, line)) if (line.size() >= 600 && line.size() <= 3000) recs.emplace_back(line); }
    closedir(d);
  }
  size_t bytes = 0; for (auto &r : recs) bytes += r.size();
  printf("%zu records, avg %zu B, impl %s\n", recs.size(), bytes / recs.size(), get_active_implementation()->name().c_str());
  dom::parser dp(1 << 20); if (dp.allocate(64 * 1024, 1024)) return 1; ondemand::parser op;  // as vj_parser_create
  auto time = [&](const char *name, auto fn) {
    double best = 1e9;
    for (int run = 0; run < 5; run++) {
      auto t0 = std::chrono::steady_clock::now(); size_t n = 0;
      for (int pass = 0; pass < 300; pass++) for (auto &r : recs) { fn(r); n++; }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s / n);
    }
    printf("%-28s %8.0f k rec/s  %6.3f us\n", name, 1e-3 / best, best * 1e6);
  };
  time("dom parse", [&](padded_string &r) { dom::element e; if (!dp.parse(r).get(e)) sink++; });
  time("dom parse+walk", [&](padded_string &r) { dom::element e; if (!dp.parse(r).get(e)) domWalk(e, root); });
  time("ondemand iterate+walk", [&](padded_string &r) { ondemand::document d; if (op.iterate(r).get(d)) return; ondemand::object o; if (!d.get_object().get(o)) odWalk(o, root); });
  printf("%llu\n", (unsigned long long)sink);
}
