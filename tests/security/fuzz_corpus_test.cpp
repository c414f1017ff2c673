// The fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) are made here, from the model
// zoo and a few request bodies and specs: `TABULA_UPDATE_CORPUS=1 ctest -R FuzzCorpus` rewrites
// them. Every run checks that the committed artifact seeds cover every registered model kind
// and still load and predict, so the fuzzer starts from files this build accepts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "security/security_test_support.hpp"

namespace tabula::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(TABULA_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

/// Request seeds: the first byte picks the model (byte & 3, modulo 3: the zoo's forest
/// classifier with every transformer, the linear regressor, the PCA) and the protocol
/// ((byte >> 2) % 3: v2 JSON, v2 with binary tensors, MLflow), as tests/fuzz/request_fuzzer.cpp
/// reads it.
std::vector<std::pair<std::string, std::string>> request_seeds() {
  const std::string v2 = R"({"id":"7","inputs":[)"
                         R"({"name":"a","datatype":"FP64","shape":[2],"data":[1.5,null]},)"
                         R"({"name":"b","datatype":"FP32","shape":[2,1],"data":[0,2]},)"
                         R"({"name":"color","datatype":"BYTES","shape":[2],"data":["red","x"]},)"
                         R"({"name":"size","datatype":"BYTES","shape":[2],"data":["S","M"]}],)"
                         R"("outputs":[{"name":"predict"}]})";
  const std::string split = R"({"dataframe_split":{"columns":["a","b","color","size"],)"
                            R"("data":[[1,2,"red","S"],[null,0.5,"blue","L"]]}})";
  const std::string records = R"({"dataframe_records":[{"a":1,"b":2,"color":"red","size":"M"},)"
                              R"({"a":"3","b":null,"color":7,"size":"S"}]})";
  std::vector<std::pair<std::string, std::string>> seeds;
  for (int model = 0; model < 3; ++model) {
    const std::string m = std::to_string(model);
    seeds.push_back({"v2-" + m, std::string(1, static_cast<char>(model)) + v2});
    seeds.push_back({"split-" + m, std::string(1, static_cast<char>(model | 8)) + split});
    seeds.push_back({"records-" + m, std::string(1, static_cast<char>(model | 8)) + records});
  }
  return seeds;
}

std::vector<std::pair<std::string, std::string>> toml_seeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  for (const char* example : {"pipeline.toml", "experiment.toml"}) {
    const fs::path path = fs::path(TABULA_SOURCE_DIR) / "examples" / example;
    if (fs::exists(path)) seeds.push_back({example, read_bytes(path.string())});
  }
  seeds.push_back({"inline.toml",
                   "[pipeline]\nafter = [{ kind = \"PCA\", n_components = 2 }]\n"
                   "[[pipeline.branches]]\nname = \"ids\"\ncolumns = { names = [\"a\", \"b\"] }\n"
                   "steps = [{ kind = \"OrdinalEncoder\", handle_unknown = \"use_encoded_value\", "
                   "unknown_value = -1 }]\n"});
  seeds.push_back({"values.toml",
                   "a = 1\nb = -2.5e3\nc = 'lit'\nd = \"esc\\u00e9\\n\"\ne = [1, [2, 3], {x = 1}]\n"
                   "f = true\n[t.u]\nv = 0x1F\n[[arr]]\nw = 1979-05-27\n"});
  return seeds;
}

TEST(FuzzCorpus, SeedsCoverEveryModelKindAndLoad) {
  if (std::getenv("TABULA_UPDATE_CORPUS")) {
    fs::remove_all(kCorpus / "artifact");
    fs::create_directories(kCorpus / "artifact");
    for (const ZooModel& m : shared_zoo())
      fs::copy_file(m.path, kCorpus / "artifact" / (m.name + ".tabula"));
    for (const auto& [target, seeds] :
         {std::pair("request", request_seeds()), std::pair("toml", toml_seeds())}) {
      fs::remove_all(kCorpus / target);
      fs::create_directories(kCorpus / target);
      for (const auto& [name, bytes] : seeds)
        write_bytes((kCorpus / target / name).string(), bytes);
    }
  }
  std::set<std::string> seeds;  // file names: <registry name>-<task>-<pipeline>.tabula
  for (const auto& e : fs::directory_iterator(kCorpus / "artifact")) {
    SCOPED_TRACE(e.path().string());
    EXPECT_NO_THROW(load_and_use(e.path().string()));
    seeds.insert(e.path().filename().string());
  }
  for (const ZooModel& m : shared_zoo())
    EXPECT_TRUE(seeds.count(m.name + ".tabula"))
        << "no seed for " << m.name << " (TABULA_UPDATE_CORPUS=1 rewrites the seeds)";
  // Format 3: the gradient boosting seeds with the default pipeline split text columns by
  // category sets, so the fuzzer starts from files that hold them.
  for (const ZooModel& m : shared_zoo())
    if (m.kind.starts_with("gbdt") && m.name.ends_with("-default"))
      EXPECT_NE(read_bytes((kCorpus / "artifact" / (m.name + ".tabula")).string())
                    .find("\"gbdt.category_bits\""),
                std::string::npos)
          << m.name << " has no category-set split";
  for (const char* target : {"csv", "request", "toml", "grpc"})
    EXPECT_FALSE(fs::is_empty(kCorpus / target)) << target;
}

}  // namespace
}  // namespace tabula::testing
