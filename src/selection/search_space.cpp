// Search spaces: the --param expression language, grids and seeded random draws.
#include <fmt/format.h>

#include <cmath>
#include <random>
#include <set>
#include <string>

#include "selection/random_draws.hpp"
#include "tabula/core/error.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula {
namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_items(std::string_view body, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = body.find(sep, start);
    out.push_back(trim(body.substr(start, pos == std::string_view::npos ? pos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

[[noreturn]] void bad(std::string_view item, const std::string& why) {
  throw InputError("--param '" + std::string(item) + "': " + why);
}

double number(std::string_view item, const std::string& text) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v))
    bad(item, "'" + text + "' is not a finite number");
  return v;
}

std::int64_t integer(std::string_view item, const std::string& text) {
  const double v = number(item, text);
  if (v != std::floor(v)) bad(item, "'" + text + "' is not a whole number");
  return static_cast<std::int64_t>(v);
}

std::string format_value(double v) { return fmt::format("{}", v); }

using selection::draw_below;
using selection::draw_unit;

}  // namespace

ParamDimension ParamDimension::parse(std::string_view item) {
  const auto eq = item.find('=');
  if (eq == std::string_view::npos) bad(item, "expected name=values");
  ParamDimension dim;
  dim.name = trim(item.substr(0, eq));
  const std::string expr = trim(item.substr(eq + 1));
  if (dim.name.empty()) bad(item, "empty parameter name");
  if (expr.empty()) bad(item, "no values");

  if (expr.front() == '[') {
    if (expr.back() != ']') bad(item, "a list must end with ']'");
    if (trim(std::string_view(expr).substr(1, expr.size() - 2)).empty()) bad(item, "empty list");
    dim.values = split_items(std::string_view(expr).substr(1, expr.size() - 2), ',');
  } else if (const auto open = expr.find('('); open != std::string::npos && expr.back() == ')' &&
                                               expr.find('|') == std::string::npos) {
    const std::string fn = trim(std::string_view(expr).substr(0, open));
    const std::vector<std::string> args =
        split_items(std::string_view(expr).substr(open + 1, expr.size() - open - 2), ',');
    auto want = [&](std::size_t lo, std::size_t hi) {
      if (args.size() < lo || args.size() > hi)
        bad(item,
            fn + "() takes " +
                (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                " arguments, got " + std::to_string(args.size()));
    };
    if (fn == "choice") {
      dim.values = args;
    } else if (fn == "logspace" || fn == "linspace") {
      want(3, 3);
      const double a = number(item, args[0]), b = number(item, args[1]);
      const std::int64_t n = integer(item, args[2]);
      if (n < 1) bad(item, "the number of points must be at least 1");
      for (std::int64_t i = 0; i < n; ++i) {
        const double t =
            n == 1 ? a : a + (b - a) * static_cast<double>(i) / static_cast<double>(n - 1);
        dim.values.push_back(format_value(fn == "logspace" ? std::pow(10.0, t) : t));
      }
    } else if (fn == "range") {
      want(2, 3);
      const std::int64_t a = integer(item, args[0]), b = integer(item, args[1]);
      const std::int64_t step = args.size() == 3 ? integer(item, args[2]) : 1;
      if (step <= 0) bad(item, "range() step must be positive");
      for (std::int64_t v = a; v < b; v += step) dim.values.push_back(std::to_string(v));
    } else if (fn == "uniform" || fn == "loguniform" || fn == "randint") {
      want(2, 2);
      dim.low = number(item, args[0]);
      dim.high = number(item, args[1]);
      if (!(dim.low < dim.high)) bad(item, fn + "(a, b) needs a < b");
      if (fn == "uniform") {
        dim.kind = Kind::kUniform;
      } else if (fn == "loguniform") {
        if (!(dim.low > 0.0)) bad(item, "loguniform(a, b) needs a > 0");
        dim.kind = Kind::kLogUniform;
      } else {
        integer(item, args[0]);
        integer(item, args[1]);
        dim.kind = Kind::kRandInt;
      }
      return dim;
    } else {
      bad(item, "unknown function '" + fn +
                    "' (known: logspace, linspace, range, choice, uniform, loguniform, randint)");
    }
  } else if (expr.find('|') != std::string::npos) {
    dim.values = split_items(expr, '|');
  } else {
    dim.values = {expr};
  }
  if (dim.values.empty()) bad(item, "empty list");
  for (const std::string& v : dim.values)
    if (v.empty()) bad(item, "empty value in the list");
  return dim;
}

std::string ParamDimension::describe() const {
  switch (kind) {
    case Kind::kUniform:
      return fmt::format("{}=uniform({},{})", name, low, high);
    case Kind::kLogUniform:
      return fmt::format("{}=loguniform({},{})", name, low, high);
    case Kind::kRandInt:
      return fmt::format("{}=randint({},{})", name, low, high);
    case Kind::kList:
      break;
  }
  std::string out = name + "=[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  return out + "]";
}

SearchSpace SearchSpace::parse(const std::vector<std::string>& items) {
  SearchSpace space;
  std::set<std::string> seen;
  for (const std::string& item : items) {
    ParamDimension dim = ParamDimension::parse(item);
    if (!seen.insert(dim.name).second) throw InputError("--param: '" + dim.name + "' given twice");
    space.dims.push_back(std::move(dim));
  }
  return space;
}

std::vector<ParamMap> SearchSpace::grid() const {
  for (const ParamDimension& d : dims)
    if (d.kind != ParamDimension::Kind::kList)
      throw InputError("--param " + d.describe() +
                       ": a distribution cannot be enumerated; use --search random (or halving "
                       "with --n-iter)");
  std::vector<ParamMap> out(1);
  for (const ParamDimension& d : dims) {
    std::vector<ParamMap> next;
    next.reserve(out.size() * d.values.size());
    for (const ParamMap& base : out)
      for (const std::string& v : d.values) {
        ParamMap p = base;
        p[d.name] = v;
        next.push_back(std::move(p));
      }
    out = std::move(next);
  }
  return out;
}

std::vector<ParamMap> SearchSpace::sample(std::int64_t n_iter, std::uint64_t seed) const {
  if (n_iter < 1) throw InputError("--n-iter must be at least 1");
  bool all_lists = true;
  double combinations = 1.0;
  for (const ParamDimension& d : dims) {
    all_lists &= d.kind == ParamDimension::Kind::kList;
    combinations *= static_cast<double>(d.values.size());
  }
  if (all_lists && combinations <= static_cast<double>(n_iter)) return grid();
  std::mt19937_64 rng(seed);
  std::vector<ParamMap> out;
  for (std::int64_t i = 0; i < n_iter; ++i) {
    ParamMap p;
    for (const ParamDimension& d : dims) {
      switch (d.kind) {
        case ParamDimension::Kind::kList:
          p[d.name] = d.values[draw_below(rng, d.values.size())];
          break;
        case ParamDimension::Kind::kUniform:
          p[d.name] = format_value(d.low + (d.high - d.low) * draw_unit(rng));
          break;
        case ParamDimension::Kind::kLogUniform:
          p[d.name] = format_value(
              std::exp(std::log(d.low) + (std::log(d.high) - std::log(d.low)) * draw_unit(rng)));
          break;
        case ParamDimension::Kind::kRandInt: {
          const auto lo = static_cast<std::int64_t>(d.low), hi = static_cast<std::int64_t>(d.high);
          p[d.name] = std::to_string(
              lo + static_cast<std::int64_t>(draw_below(rng, static_cast<std::uint64_t>(hi - lo))));
          break;
        }
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace tabula
