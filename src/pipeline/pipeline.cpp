// The pipeline: branches of column steps, concatenated, then the "after" steps. Fitting reads
// the training rows only; transform is one pass over row blocks on the thread pool, each block
// going through every step in cache (imputers and scalers are folded into one map per column).
#include "tabula/pipeline/pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "pipeline/date_time.hpp"
#include "pipeline/state.hpp"
#include "tabula/core/error.hpp"
#include "tabula/core/thread_pool.hpp"

namespace tabula {
namespace {

using pipeline::Affine;
using pipeline::CategoryCounts;
using pipeline::Encoder;
using pipeline::kNaN;
using pipeline::MatrixOp;

constexpr std::int64_t kRowBlock = 1024;
constexpr std::int64_t kMissing = -2;  // encoder input: missing value, no imputer
constexpr std::int64_t kUnknown = -1;  // encoder input: a value not among the categories

std::string quote_list(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
  return list;
}

/// One fitted input column as found in the data being transformed.
struct ResolvedInput {
  const Column* column = nullptr;  // as it is in the data (or `converted`)
  ColumnType fitted = ColumnType::kNumeric;
  // Fitted numeric, read as text (a chunk with a stray word): each category parsed once.
  std::vector<double> parsed;
  std::vector<std::uint8_t> parsed_ok;
  // Fitted text, read as numbers: the numbers as text.
  std::optional<Column> converted;
};

/// A text column's table codes mapped to its encoder's category indices.
struct ResolvedCodes {
  std::vector<std::int64_t> index;  // per table code
  std::int64_t fill = kMissing;     // what a missing value becomes
  // DateFeatures: each table category's outputs (width each), then the imputer's fill value's;
  // `index` is the row of this table, or kUnknown for a value that is not a date.
  std::vector<double> dates;
};

struct Prepared {
  const PipelineState* state = nullptr;
  const Dataset* data = nullptr;
  std::span<const std::int64_t> rows;
  std::vector<ResolvedInput> inputs;
  std::vector<std::vector<ResolvedCodes>> codes;  // [branch][column]

  std::int64_t row(std::int64_t r) const {
    return rows.empty() ? r : rows[static_cast<std::size_t>(r)];
  }
};

/// DateFeatures: every category of the table (and the fill value) parsed once.
ResolvedCodes resolve_dates(const FittedColumn& fc, const Column& column) {
  const Encoder& e = *fc.encoder;
  const std::size_t n = column.categories.size();
  ResolvedCodes out;
  out.index.resize(n);
  out.dates.resize((n + 1) * static_cast<std::size_t>(e.width));
  for (std::size_t c = 0; c < n; ++c)
    out.index[c] = pipeline::date_values(e, column.categories[c], &out.dates[c * e.width])
                       ? static_cast<std::int64_t>(c)
                       : kUnknown;
  if (fc.fill)
    out.fill = pipeline::date_values(e, *fc.fill, &out.dates[n * e.width])
                   ? static_cast<std::int64_t>(n)
                   : kUnknown;
  return out;
}

ResolvedCodes resolve_codes(const FittedColumn& fc, const Column& column) {
  const Encoder& e = *fc.encoder;
  if (e.kind == Encoder::Kind::kDate) return resolve_dates(fc, column);
  ResolvedCodes out;
  out.index.resize(column.categories.size());
  for (std::size_t c = 0; c < column.categories.size(); ++c)
    out.index[c] = e.find(column.categories[c]);
  if (fc.fill) out.fill = e.find(*fc.fill);
  return out;
}

Column numbers_as_text(const Column& numeric) {
  Column out;
  out.name = numeric.name;
  out.type = ColumnType::kCategorical;
  std::map<std::string, std::int32_t> index;
  std::vector<std::string> text(numeric.numeric.size());
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!std::isnan(numeric.numeric[i])) {
      text[i] = fmt::format("{}", numeric.numeric[i]);
      index.emplace(text[i], 0);
    }
  for (auto& [value, code] : index) {
    code = static_cast<std::int32_t>(out.categories.size());
    out.categories.push_back(value);
  }
  out.codes.resize(text.size());
  for (std::size_t i = 0; i < text.size(); ++i)
    out.codes[i] = std::isnan(numeric.numeric[i]) ? -1 : index[text[i]];
  return out;
}

Prepared prepare(const PipelineState& s, const Dataset& data, std::span<const std::int64_t> rows) {
  Prepared p;
  p.state = &s;
  p.data = &data;
  p.rows = rows;
  std::vector<std::string> missing;
  for (const auto& [name, type] : s.inputs) {
    ResolvedInput in;
    in.fitted = type;
    const auto index = data.find(name);
    if (!index) {
      missing.push_back(name);
      p.inputs.push_back(std::move(in));
      continue;
    }
    const Column& column = data.columns[static_cast<std::size_t>(*index)];
    in.column = &column;
    if (type == ColumnType::kNumeric && column.type == ColumnType::kCategorical) {
      for (const std::string& text : column.categories) {
        double v = 0.0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        const bool ok = ec == std::errc() && ptr == end;
        in.parsed.push_back(ok ? v : kNaN);
        in.parsed_ok.push_back(ok ? 1 : 0);
      }
    } else if (type == ColumnType::kCategorical && column.type == ColumnType::kNumeric) {
      in.converted = numbers_as_text(column);
    }
    p.inputs.push_back(std::move(in));
  }
  if (!missing.empty())
    throw InputError(data.source + ": missing " + std::to_string(missing.size()) +
                     " column(s) the pipeline needs: " + quote_list(missing));
  for (std::size_t i = 0; i < p.inputs.size(); ++i)
    if (p.inputs[i].converted) p.inputs[i].column = &*p.inputs[i].converted;
  for (const FittedBranch& b : s.branches) {
    std::vector<ResolvedCodes> codes;
    for (const FittedColumn& fc : b.columns)
      codes.push_back(fc.encoder
                          ? resolve_codes(fc, *p.inputs[static_cast<std::size_t>(fc.input)].column)
                          : ResolvedCodes{});
    p.codes.push_back(std::move(codes));
  }
  if (!rows.empty())
    for (std::int64_t r : rows)
      TABULA_ASSERT(r >= 0 && r < data.rows(), "row index " + std::to_string(r) + " out of range");
  return p;
}

/// Writes the encoder's outputs for category index `idx` (or kUnknown / kMissing) to out[0..w)
/// (stride 1); returns false when the value cannot be encoded (handle_unknown=error, or not a
/// date).
bool encode(const Encoder& e, const ResolvedCodes& codes, std::int64_t idx, double* out) {
  if (e.kind == Encoder::Kind::kDate) {
    if (idx == kUnknown) return false;
    if (idx == kMissing)  // stays missing: forests route it, an imputer after the step fills it
      std::fill(out, out + e.width, kNaN);
    else
      std::copy_n(codes.dates.data() + idx * e.width, e.width, out);
    return true;
  }
  if (e.kind == Encoder::Kind::kOneHot) {
    std::fill(out, out + e.width, 0.0);
    if (idx >= 0) {
      out[e.slot[static_cast<std::size_t>(idx)]] = 1.0;
      return true;
    }
    if (e.unknown == Encoder::Unknown::kError) return false;
    if (e.unknown == Encoder::Unknown::kInfrequent && e.infrequent_slot >= 0 && idx == kUnknown)
      out[e.infrequent_slot] = 1.0;
    return true;
  }
  if (idx >= 0) {
    out[0] = static_cast<double>(e.slot[static_cast<std::size_t>(idx)]);
    return true;
  }
  if (idx == kMissing) {  // encoded_missing_value = nan
    out[0] = kNaN;
    return true;
  }
  if (e.unknown == Encoder::Unknown::kError) return false;
  out[0] = e.unknown_value;
  return true;
}

/// Why encode() refused `value` (category index `idx`).
std::string encode_error(const Encoder& e, std::int64_t idx, const std::string& value) {
  if (idx == kMissing) return "missing value (no SimpleImputer before the encoder)";
  if (e.kind == Encoder::Kind::kDate)
    return "value '" + value + "' is not a date in format " +
           pipeline::describe_date_format(e.date_format);
  return "unseen category '" + value + "' (handle_unknown=error)";
}

/// Encodes output rows [r0, r1) of the concatenated branches (and the after steps when
/// `with_after`) into `out` (dense, (r1 - r0) x width). Bad rows are flagged in `bad` and
/// reported in `errors`.
// long: the per-row hot loop of every transform: each branch's columns, then its block
// steps, then the after steps, on one row buffer; split, the loop would lose its locality.
std::int64_t encode_rows(const Prepared& p, std::int64_t r0, std::int64_t r1, bool with_after,
                         std::vector<double>& out, std::vector<std::uint8_t>& bad,
                         std::vector<RowError>& errors) {
  const PipelineState& s = *p.state;
  const std::int64_t n = r1 - r0;
  std::vector<double> concat(static_cast<std::size_t>(n * s.concat_width));
  std::vector<double> tmp, tmp2, scratch;
  bad.assign(static_cast<std::size_t>(n), 0);
  std::int64_t offset = 0;
  for (std::size_t b = 0; b < s.branches.size(); ++b) {
    const FittedBranch& branch = s.branches[b];
    double* dst = concat.data() + offset;
    std::int64_t stride = s.concat_width;
    if (!branch.ops.empty()) {
      tmp.assign(static_cast<std::size_t>(n * branch.width_in), 0.0);
      dst = tmp.data();
      stride = branch.width_in;
    }
    std::int64_t col = 0;
    for (std::size_t c = 0; c < branch.columns.size(); ++c) {
      const FittedColumn& fc = branch.columns[c];
      const ResolvedInput& in = p.inputs[static_cast<std::size_t>(fc.input)];
      const Column& column = *in.column;
      if (!fc.encoder) {
        const Affine& map = fc.maps[0];
        if (column.type == ColumnType::kNumeric) {
          const double* values = column.numeric.data();
          for (std::int64_t r = 0; r < n; ++r)
            dst[r * stride + col] = map.apply(values[p.row(r0 + r)]);
        } else {
          for (std::int64_t r = 0; r < n; ++r) {
            const std::int64_t row = p.row(r0 + r);
            const std::int32_t code = column.codes[static_cast<std::size_t>(row)];
            double x = kNaN;
            if (code >= 0) {
              x = in.parsed[static_cast<std::size_t>(code)];
              if (!in.parsed_ok[static_cast<std::size_t>(code)]) {
                bad[static_cast<std::size_t>(r)] = 1;
                errors.push_back({row, fc.name,
                                  "value '" + column.categories[static_cast<std::size_t>(code)] +
                                      "' is not a number (the column was numeric in training)"});
              }
            }
            dst[r * stride + col] = map.apply(x);
          }
        }
      } else {
        const ResolvedCodes& codes = p.codes[b][c];
        const Encoder& e = *fc.encoder;
        const std::int64_t w = fc.width();
        scratch.resize(static_cast<std::size_t>(w));
        for (std::int64_t r = 0; r < n; ++r) {
          const std::int64_t row = p.row(r0 + r);
          const std::int32_t code = column.codes[static_cast<std::size_t>(row)];
          const std::int64_t idx =
              code < 0 ? codes.fill : codes.index[static_cast<std::size_t>(code)];
          if (!encode(e, codes, idx, scratch.data())) {
            bad[static_cast<std::size_t>(r)] = 1;
            const std::string value = code >= 0 ? column.categories[static_cast<std::size_t>(code)]
                                      : fc.fill ? *fc.fill
                                                : std::string();
            errors.push_back({row, fc.name, encode_error(e, idx, value)});
          }
          double* o = dst + r * stride + col;
          for (std::int64_t k = 0; k < w; ++k)
            o[k] = fc.maps[static_cast<std::size_t>(k)].apply(scratch[static_cast<std::size_t>(k)]);
        }
      }
      col += fc.width();
    }
    if (!branch.ops.empty()) {
      for (const MatrixOp& op : branch.ops) {
        tmp2.resize(static_cast<std::size_t>(n * op.width_out));
        op.apply(tmp.data(), n, tmp2.data());
        std::swap(tmp, tmp2);
      }
      for (std::int64_t r = 0; r < n; ++r)
        std::copy_n(tmp.data() + r * branch.width, branch.width,
                    concat.data() + r * s.concat_width + offset);
    }
    offset += branch.width;
  }
  if (with_after && !s.after.empty()) {
    for (const MatrixOp& op : s.after) {
      tmp2.resize(static_cast<std::size_t>(n * op.width_out));
      op.apply(concat.data(), n, tmp2.data());
      std::swap(concat, tmp2);
    }
  }
  out = std::move(concat);
  return with_after && !s.after.empty() ? s.after.back().width_out : s.concat_width;
}

/// Fits `steps` (elementwise or PCA) on `block` (rows x width), transforming it as it goes.
std::vector<MatrixOp> fit_ops(Backend& backend, const std::vector<StepSpec>& steps,
                              std::vector<double>& block, std::int64_t rows, std::int64_t& width,
                              std::vector<std::string>& names, const std::string& prefix,
                              nlohmann::json& summary, Communicator* comm) {
  std::vector<MatrixOp> ops;
  for (const StepSpec& step : steps) {
    nlohmann::json attributes = nlohmann::json::object();
    MatrixOp op;
    op.width_in = width;
    if (pipeline::takes_text(step)) {
      throw InputError(step.kind + " needs raw text columns: put it in a branch, before any PCA");
    } else if (step.kind == "PCA") {
      op.pca = pipeline::fit_pca(backend, step, block, rows, width, attributes, comm);
      op.width_out = op.pca->k;
      names.clear();
      for (std::int64_t c = 0; c < op.width_out; ++c)
        names.push_back(prefix + "pc" + std::to_string(c + 1));
    } else {
      op.width_out = width;
      std::vector<double> column(static_cast<std::size_t>(rows));
      for (std::int64_t j = 0; j < width; ++j) {
        for (std::int64_t i = 0; i < rows; ++i)
          column[static_cast<std::size_t>(i)] = block[static_cast<std::size_t>(i * width + j)];
        op.maps.push_back(pipeline::fit_elementwise(
            step, column, names[static_cast<std::size_t>(j)], attributes, comm));
      }
    }
    std::vector<double> next(static_cast<std::size_t>(rows * op.width_out));
    op.apply(block.data(), rows, next.data());
    block = std::move(next);
    width = op.width_out;
    summary.push_back({{"kind", step.kind},
                       {"params", step.params},
                       {"columns", op.pca ? nlohmann::json() : nlohmann::json(names)},
                       {"attributes", attributes}});
    // Consecutive elementwise steps fold into one map per column.
    if (!op.pca && !ops.empty() && !ops.back().pca) {
      for (std::size_t j = 0; j < op.maps.size(); ++j)
        ops.back().maps[j] = ops.back().maps[j].then(op.maps[j]);
    } else {
      ops.push_back(std::move(op));
    }
  }
  return ops;
}

/// Counts of a text column over the training rows.
CategoryCounts count_categories(const Column& column, std::span<const std::int64_t> rows) {
  CategoryCounts counts;
  counts.values = column.categories;
  counts.counts.assign(column.categories.size(), 0);
  for (std::int64_t r : rows) {
    const std::int32_t code = column.codes[static_cast<std::size_t>(r)];
    if (code < 0)
      ++counts.missing;
    else
      ++counts.counts[static_cast<std::size_t>(code)];
  }
  return counts;
}

void add_count(CategoryCounts& counts, const std::string& value, std::int64_t n) {
  const auto it = std::lower_bound(counts.values.begin(), counts.values.end(), value);
  const auto pos = it - counts.values.begin();
  if (it == counts.values.end() || *it != value) {
    counts.values.insert(it, value);
    counts.counts.insert(counts.counts.begin() + pos, 0);
  }
  counts.counts[static_cast<std::size_t>(pos)] += n;
}

/// Fits the column steps (those before the first PCA) of one column of a branch.
// long: one column through the column steps in spec order (imputer, scaler, encoders), each
// fitted on the previous step's output, with the summary and names written as it goes.
FittedColumn fit_column(const std::vector<StepSpec>& steps, const Column& column,
                        std::int64_t input, std::span<const std::int64_t> rows,
                        const std::string& branch, nlohmann::json& summary,
                        std::vector<std::string>& names, std::vector<std::string>& notes,
                        Communicator* comm) {
  FittedColumn fc;
  fc.name = column.name;
  fc.type = column.type;
  fc.input = input;
  const std::string where = "pipeline branch '" + branch + "': ";
  try {
    if (column.type == ColumnType::kNumeric) {
      std::vector<double> v(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i)
        v[i] = column.numeric[static_cast<std::size_t>(rows[i])];
      Affine map;
      for (std::size_t k = 0; k < steps.size(); ++k) {
        if (!pipeline::is_elementwise(steps[k]))
          throw InputError(steps[k].kind + ": column '" + column.name +
                           "' is numeric; encoders take categorical columns");
        const Affine a =
            pipeline::fit_elementwise(steps[k], v, column.name, summary[k]["attributes"], comm);
        for (double& x : v) x = a.apply(x);
        map = map.then(a);
      }
      fc.maps = {map};
      names.push_back(column.name);
      return fc;
    }
    if (steps.empty())
      throw InputError("column '" + column.name +
                       "' is categorical; a branch without steps passes numeric columns only "
                       "(add an encoder, or select numeric columns)");
    CategoryCounts counts = count_categories(column, rows);
    pipeline::merge_over_ranks(counts, comm);
    std::vector<std::vector<double>> encoded;  // per output, over the training rows
    std::size_t k = 0;
    for (; k < steps.size() && !fc.encoder; ++k) {
      const StepSpec& step = steps[k];
      nlohmann::json& attributes = summary[k]["attributes"];
      if (step.kind == "SimpleImputer") {
        fc.fill = pipeline::fit_text_imputer(step, counts, column.name, attributes);
        if (counts.missing > 0) add_count(counts, *fc.fill, counts.missing);
        counts.missing = 0;
      } else if (step.kind == "OneHotEncoder") {
        fc.encoder = pipeline::fit_one_hot_encoder(step, counts, column.name, attributes, notes);
      } else if (step.kind == "OrdinalEncoder") {
        fc.encoder = pipeline::fit_ordinal_encoder(step, counts, column.name, attributes);
      } else if (step.kind == "DateFeatures") {
        fc.encoder = pipeline::fit_date_features(step, counts, column.name, attributes);
      } else {
        throw InputError(step.kind + ": column '" + column.name +
                         "' is categorical; encode it first (OneHotEncoder, OrdinalEncoder or "
                         "DateFeatures)");
      }
    }
    if (!fc.encoder)
      throw InputError("column '" + column.name +
                       "' is categorical and its steps have no encoder (OneHotEncoder, "
                       "OrdinalEncoder or DateFeatures)");
    const Encoder& e = *fc.encoder;
    fc.maps.assign(static_cast<std::size_t>(e.width), Affine{});
    if (k < steps.size()) {
      // Steps after the encoder fit on the encoded training rows.
      ResolvedCodes codes = resolve_codes(fc, column);
      encoded.assign(static_cast<std::size_t>(e.width), std::vector<double>(rows.size()));
      std::vector<double> out(static_cast<std::size_t>(e.width));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::int32_t code = column.codes[static_cast<std::size_t>(rows[i])];
        encode(e, codes, code < 0 ? codes.fill : codes.index[static_cast<std::size_t>(code)],
               out.data());
        for (std::int64_t o = 0; o < e.width; ++o)
          encoded[static_cast<std::size_t>(o)][i] = out[static_cast<std::size_t>(o)];
      }
      for (; k < steps.size(); ++k) {
        if (!pipeline::is_elementwise(steps[k]))
          throw InputError(steps[k].kind + ": column '" + column.name + "' is already encoded");
        for (std::int64_t o = 0; o < e.width; ++o) {
          auto& v = encoded[static_cast<std::size_t>(o)];
          const Affine a =
              pipeline::fit_elementwise(steps[k], v, e.output_names[static_cast<std::size_t>(o)],
                                        summary[k]["attributes"], comm);
          for (double& x : v) x = a.apply(x);
          fc.maps[static_cast<std::size_t>(o)] = fc.maps[static_cast<std::size_t>(o)].then(a);
        }
      }
    }
    for (const std::string& n : e.output_names) names.push_back(n);
    return fc;
  } catch (const InputError& err) {
    throw InputError(where + err.what());
  }
}

/// The format of a branch's DateFeatures step: what its date selector recognises.
std::string date_format_of(const BranchSpec& branch) {
  for (const StepSpec& step : branch.steps)
    if (step.kind == "DateFeatures")
      if (const auto it = step.params.find("format"); it != step.params.end()) return it->second;
  return std::string(pipeline::kIsoDate);
}

// Each branch's columns (indices into data.columns): its names, else every column of its type
// that no earlier branch took. Marks the taken ones in `taken`.
std::vector<std::vector<std::size_t>> select_branch_columns(const PipelineSpec& spec,
                                                            const Dataset& data,
                                                            std::vector<bool>& taken,
                                                            Communicator* comm) {
  const std::size_t ncols = data.columns.size();
  std::vector<std::vector<std::size_t>> selected;
  for (const BranchSpec& b : spec.branches) {
    std::vector<std::size_t> cols;
    if (!b.columns.names.empty()) {
      std::vector<std::string> missing;
      for (const std::string& name : b.columns.names) {
        const auto index = data.find(name);
        if (!index) {
          missing.push_back(name);
          continue;
        }
        const Column& c = data.columns[static_cast<std::size_t>(*index)];
        if (b.columns.type && c.type != *b.columns.type)
          throw InputError(data.source + ": pipeline branch '" + b.name + "' takes " +
                           std::string(to_string(*b.columns.type)) + " columns; '" + name +
                           "' is " + std::string(to_string(c.type)));
        cols.push_back(static_cast<std::size_t>(*index));
      }
      if (!missing.empty())
        throw InputError(data.source + ": pipeline branch '" + b.name +
                         "' selects column(s) not in the table: " + quote_list(missing));
    } else {
      const std::string date_format = b.columns.dates ? date_format_of(b) : std::string();
      for (std::size_t j = 0; j < ncols; ++j)
        if (!taken[j] && (!b.columns.type || data.columns[j].type == *b.columns.type) &&
            (!b.columns.dates || pipeline::is_date_column(data.columns[j], date_format, comm)))
          cols.push_back(j);
    }
    for (std::size_t j : cols) taken[j] = true;
    selected.push_back(std::move(cols));
  }
  return selected;
}

// The training rows through the fitted column steps (of `state`), as one row-major block: the
// input the block steps (PCA, the 'after' steps) are fitted on.
std::vector<double> training_block(const PipelineState& state, const Dataset& data,
                                   std::span<const std::int64_t> rows) {
  const Prepared p = prepare(state, data, rows);
  std::vector<double> block;
  std::vector<std::uint8_t> bad;
  std::vector<RowError> errors;
  encode_rows(p, 0, static_cast<std::int64_t>(rows.size()), false, block, bad, errors);
  return block;
}

}  // namespace

Pipeline::Pipeline(PipelineSpec spec) : state_(std::make_unique<State>()) {
  state_->spec = std::move(spec);
}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

const PipelineSpec& Pipeline::spec() const { return state_->spec; }
bool Pipeline::fitted() const { return state_->fitted; }
const std::vector<std::pair<std::string, ColumnType>>& Pipeline::input_columns() const {
  return state_->inputs;
}
std::int64_t Pipeline::n_outputs() const {
  return static_cast<std::int64_t>(state_->output_names.size());
}
const std::vector<std::string>& Pipeline::output_names() const { return state_->output_names; }

std::vector<std::uint8_t> Pipeline::categorical_outputs() const {
  std::vector<std::uint8_t> out(state_->output_names.size(), 0);
  if (!state_->after.empty()) return out;  // codes mixed or rescaled after the concatenation
  std::size_t at = 0;
  for (const FittedBranch& b : state_->branches) {
    if (!b.ops.empty()) {  // a PCA over the branch: no output of it is a code
      at += static_cast<std::size_t>(b.width);
      continue;
    }
    for (const FittedColumn& c : b.columns) {
      const bool codes = c.encoder && c.encoder->kind == pipeline::Encoder::Kind::kOrdinal &&
                         std::all_of(c.maps.begin(), c.maps.end(), [](const pipeline::Affine& m) {
                           return m.scale == 1.0 && m.shift == 0.0;
                         });
      for (std::int64_t k = 0; k < c.width(); ++k) out.at(at++) = codes ? 1 : 0;
    }
  }
  return out;
}
const std::vector<std::string>& Pipeline::notes() const { return state_->notes; }

// long: the fit in the order a spec reads: columns per branch, each branch's column and block
// steps, then the after steps; the pieces it calls (select_branch_columns, fit_column,
// training_block, fit_ops) carry the work, this keeps the order.
void Pipeline::fit(Backend& backend, const Dataset& data, std::span<const std::int64_t> rows,
                   Communicator* comm) {
  State fresh;
  fresh.spec = state_->spec;
  State& s = fresh;
  std::vector<std::int64_t> all;
  if (rows.empty()) {
    all.resize(static_cast<std::size_t>(data.rows()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
    rows = all;
  }
  for (std::int64_t r : rows)
    if (r < 0 || r >= data.rows())
      throw InputError("pipeline fit: row index " + std::to_string(r) + " out of range");

  const std::size_t ncols = data.columns.size();
  std::vector<bool> taken(ncols, false);
  const std::vector<std::vector<std::size_t>> selected =
      select_branch_columns(s.spec, data, taken, comm);
  std::vector<std::string> dropped;
  std::vector<std::int64_t> input_of(ncols, -1);
  for (std::size_t j = 0; j < ncols; ++j) {
    if (!taken[j]) {
      dropped.push_back(data.columns[j].name);
      continue;
    }
    input_of[j] = static_cast<std::int64_t>(s.inputs.size());
    s.inputs.emplace_back(data.columns[j].name, data.columns[j].type);
  }
  if (!dropped.empty())
    s.notes.push_back("pipeline: " + std::to_string(dropped.size()) +
                      " column(s) no branch selects are dropped: " + quote_list(dropped));

  for (std::size_t b = 0; b < s.spec.branches.size(); ++b) {
    const BranchSpec& spec = s.spec.branches[b];
    FittedBranch branch;
    branch.name = spec.name;
    const auto first_pca = std::find_if(spec.steps.begin(), spec.steps.end(),
                                        [](const StepSpec& st) { return st.kind == "PCA"; });
    const std::vector<StepSpec> column_steps(spec.steps.begin(), first_pca);
    const std::vector<StepSpec> block_steps(first_pca, spec.steps.end());
    nlohmann::json summary = nlohmann::json::array();
    for (const StepSpec& st : column_steps)
      summary.push_back({{"kind", st.kind},
                         {"params", st.params},
                         {"columns", nlohmann::json::array()},
                         {"attributes", nlohmann::json::object()}});
    std::vector<std::string> names;
    for (std::size_t j : selected[b]) {
      const Column& column = data.columns[j];
      branch.columns.push_back(fit_column(column_steps, column, input_of[j], rows, spec.name,
                                          summary, names, s.notes, comm));
      for (auto& st : summary) st["columns"].push_back(column.name);
      branch.width_in += branch.columns.back().width();
    }
    branch.width = branch.width_in;
    if (!block_steps.empty()) {
      // Fit the block steps on this branch's training rows, materialised once.
      PipelineState partial;
      partial.inputs = s.inputs;
      partial.branches.push_back(branch);
      partial.concat_width = branch.width_in;
      std::vector<double> block = training_block(partial, data, rows);
      std::int64_t width = branch.width_in;
      try {
        branch.ops = fit_ops(backend, block_steps, block, static_cast<std::int64_t>(rows.size()),
                             width, names, spec.name + ":", summary, comm);
      } catch (const InputError& e) {
        throw InputError("pipeline branch '" + spec.name + "': " + e.what());
      }
      branch.width = width;
    }
    branch.steps = summary;
    for (std::string& n : names) s.output_names.push_back(std::move(n));
    s.concat_width += branch.width;
    s.branches.push_back(std::move(branch));
  }
  if (s.concat_width == 0)
    throw InputError(data.source + ": the pipeline selects no column (the table has " +
                     std::to_string(ncols) + " feature column(s))");
  if (!s.spec.after.empty()) {
    std::vector<double> block = training_block(s, data, rows);
    std::int64_t width = s.concat_width;
    try {
      s.after = fit_ops(backend, s.spec.after, block, static_cast<std::int64_t>(rows.size()), width,
                        s.output_names, "", s.after_steps, comm);
    } catch (const InputError& e) {
      throw InputError("pipeline 'after' steps: " + std::string(e.what()));
    }
  }
  s.fitted = true;
  *state_ = std::move(fresh);
}

std::vector<float> Pipeline::transform(Backend& backend, const Dataset& data,
                                       std::span<const std::int64_t> rows,
                                       std::vector<RowError>* errors) const {
  (void)backend;  // the transforms are elementwise host work (docs/architecture.md)
  const State& s = *state_;
  if (!s.fitted) throw Error("pipeline is not fitted");
  const Prepared p = prepare(s, data, rows);
  const std::int64_t n = rows.empty() ? data.rows() : static_cast<std::int64_t>(rows.size());
  const std::int64_t width = n_outputs();
  std::vector<float> out(static_cast<std::size_t>(n * width));
  const std::int64_t blocks = (n + kRowBlock - 1) / kRowBlock;
  std::vector<std::vector<RowError>> block_errors(static_cast<std::size_t>(blocks));
  parallel_blocks(n, kRowBlock, [&](std::int64_t r0, std::int64_t r1) {
    std::vector<double> block;
    std::vector<std::uint8_t> bad;
    std::vector<RowError>& errs = block_errors[static_cast<std::size_t>(r0 / kRowBlock)];
    const std::int64_t w = encode_rows(p, r0, r1, true, block, bad, errs);
    TABULA_ASSERT(w == width, "pipeline output width");
    for (std::int64_t r = 0; r < r1 - r0; ++r) {
      float* o = out.data() + (r0 + r) * width;
      if (bad[static_cast<std::size_t>(r)]) {
        std::fill(o, o + width, std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      const double* in = block.data() + r * width;
      for (std::int64_t j = 0; j < width; ++j) o[j] = static_cast<float>(in[j]);
    }
  });
  for (std::vector<RowError>& errs : block_errors) {
    if (errs.empty()) continue;
    std::stable_sort(errs.begin(), errs.end(),
                     [](const RowError& a, const RowError& b) { return a.row < b.row; });
    if (!errors) {
      const RowError& e = errs.front();
      throw InputError(describe_location(
          data.source, 0, 0, e.column, "data row " + std::to_string(e.row + 1) + ": " + e.reason));
    }
    for (RowError& e : errs) errors->push_back(std::move(e));
  }
  return out;
}

}  // namespace tabula
