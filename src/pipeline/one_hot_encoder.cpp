// OneHotEncoder (sklearn.preprocessing.OneHotEncoder): one output per category seen on the
// training rows, sorted by bytes; rare categories (min_frequency, max_categories) share one
// "infrequent_sklearn" output, placed last, as scikit-learn's.
#include <algorithm>
#include <numeric>

#include "pipeline/steps.hpp"
#include "tabula/core/error.hpp"

namespace tabula::pipeline {

// long: scikit-learn's OneHotEncoder options in its order (handle_unknown, categories,
// min_frequency, max_categories, the infrequent slot); each step reads the previous one's result.
Encoder fit_one_hot_encoder(const StepSpec& step, const CategoryCounts& counts,
                            const std::string& column, nlohmann::json& attributes,
                            std::vector<std::string>& notes) {
  const StepParams p(step, {"handle_unknown", "min_frequency", "max_categories"});
  Encoder e;
  e.kind = Encoder::Kind::kOneHot;
  const std::string unknown = p.text("handle_unknown", "error");
  if (unknown == "error")
    e.unknown = Encoder::Unknown::kError;
  else if (unknown == "ignore")
    e.unknown = Encoder::Unknown::kIgnore;
  else if (unknown == "infrequent_if_exist")
    e.unknown = Encoder::Unknown::kInfrequent;
  else
    p.bad("handle_unknown", "error, ignore or infrequent_if_exist");
  if (counts.missing > 0)
    throw InputError("OneHotEncoder: column '" + column + "' has " +
                     std::to_string(counts.missing) +
                     " missing value(s) on the training rows; put a SimpleImputer before it");

  std::vector<std::int64_t> count;
  for (std::size_t i = 0; i < counts.values.size(); ++i)
    if (counts.counts[i] > 0) {
      e.categories.push_back(counts.values[i]);
      count.push_back(counts.counts[i]);
    }
  const std::size_t k = e.categories.size();
  if (k == 0)
    throw InputError("OneHotEncoder: column '" + column + "' has no value on the training rows");

  // scikit-learn's _identify_infrequent.
  std::vector<bool> infrequent(k, false);
  if (const std::string* mf = p.find("min_frequency")) {
    const double v = p.number("min_frequency", 0.0);
    if (mf->find_first_of(".eE") == std::string::npos) {
      if (v < 1.0 || v != std::floor(v))
        p.bad("min_frequency", "an integer >= 1 or a fraction in (0, 1)");
      for (std::size_t i = 0; i < k; ++i) infrequent[i] = static_cast<double>(count[i]) < v;
    } else {
      if (!(v > 0.0 && v < 1.0)) p.bad("min_frequency", "an integer >= 1 or a fraction in (0, 1)");
      const double threshold = v * static_cast<double>(counts.total());
      for (std::size_t i = 0; i < k; ++i) infrequent[i] = static_cast<double>(count[i]) < threshold;
    }
  }
  if (p.find("max_categories")) {
    const double m = p.number("max_categories", 0.0);
    if (m < 1.0 || m != std::floor(m)) p.bad("max_categories", "an integer >= 1");
    const auto n_infrequent = std::count(infrequent.begin(), infrequent.end(), true);
    const auto n_current = static_cast<std::int64_t>(k) - n_infrequent + 1;
    if (static_cast<std::int64_t>(m) < n_current) {
      const auto frequent = static_cast<std::size_t>(m) - 1;
      // Stable ascending order of counts; all but the last `frequent` become infrequent.
      std::vector<std::size_t> order(k);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return count[a] < count[b]; });
      for (std::size_t r = 0; r + frequent < k; ++r) infrequent[order[r]] = true;
    }
  }

  e.slot.assign(k, 0);
  std::vector<std::string> rare;
  for (std::size_t i = 0; i < k; ++i) {
    if (infrequent[i]) {
      rare.push_back(e.categories[i]);
      continue;
    }
    e.slot[i] = e.width++;
    e.output_names.push_back(column + "=" + e.categories[i]);
  }
  if (!rare.empty()) {
    e.infrequent_slot = e.width++;
    e.output_names.push_back(column + "=infrequent_sklearn");
    for (std::size_t i = 0; i < k; ++i)
      if (infrequent[i]) e.slot[i] = e.infrequent_slot;
    notes.push_back("OneHotEncoder: column '" + column + "': " + std::to_string(rare.size()) +
                    " infrequent categor" + (rare.size() == 1 ? "y" : "ies") + " merged into '" +
                    column + "=infrequent_sklearn'");
  }
  attributes["categories_"].push_back(e.categories);
  attributes["infrequent_categories_"].push_back(rare.empty() ? nlohmann::json()
                                                              : nlohmann::json(rare));
  return e;
}

}  // namespace tabula::pipeline
