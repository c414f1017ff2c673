// The --param expression language, grids and seeded draws.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "tabula/core/error.hpp"
#include "tabula/selection/tuning.hpp"

namespace tabula {
namespace {

TEST(ParamDimension, ListsAndRanges) {
  EXPECT_EQ(ParamDimension::parse("max_depth=[4, 8,12]").values,
            (std::vector<std::string>{"4", "8", "12"}));
  EXPECT_EQ(ParamDimension::parse("criterion=gini|entropy").values,
            (std::vector<std::string>{"gini", "entropy"}));
  EXPECT_EQ(ParamDimension::parse("c=choice(a,b,c)").values.size(), 3u);
  EXPECT_EQ(ParamDimension::parse("alpha=0.5").values, (std::vector<std::string>{"0.5"}));
  EXPECT_EQ(ParamDimension::parse("n=range(2,11,3)").values,
            (std::vector<std::string>{"2", "5", "8"}));
  const ParamDimension log = ParamDimension::parse("alpha=logspace(-3,3,7)");
  ASSERT_EQ(log.values.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(std::stod(log.values[i]), std::pow(10.0, i - 3));
  const ParamDimension lin = ParamDimension::parse("x=linspace(0,1,5)");
  EXPECT_EQ(lin.values, (std::vector<std::string>{"0", "0.25", "0.5", "0.75", "1"}));
  EXPECT_EQ(ParamDimension::parse("pipeline.scale=standard|none").name, "pipeline.scale");
}

TEST(ParamDimension, Distributions) {
  const ParamDimension u = ParamDimension::parse("x=uniform(1,2)");
  EXPECT_EQ(u.kind, ParamDimension::Kind::kUniform);
  EXPECT_EQ(ParamDimension::parse("x=loguniform(1e-3,1)").kind, ParamDimension::Kind::kLogUniform);
  EXPECT_EQ(ParamDimension::parse("x=randint(1,5)").kind, ParamDimension::Kind::kRandInt);
}

TEST(ParamDimension, MalformedIsAnError) {
  for (const char* bad : {"alpha", "=1", "alpha=", "alpha=[]", "alpha=[1,]", "alpha=logspace(1,2)",
                          "alpha=loguniform(0,1)", "alpha=uniform(2,1)", "alpha=gauss(0,1)",
                          "alpha=logspace(a,2,3)", "alpha=[1,2", "d=randint(1.5,3)"})
    EXPECT_THROW(ParamDimension::parse(bad), InputError) << bad;
}

TEST(SearchSpace, GridOrderAndSize) {
  const SearchSpace s = SearchSpace::parse({"a=[1,2]", "b=x|y|z"});
  const std::vector<ParamMap> g = s.grid();
  ASSERT_EQ(g.size(), 6u);
  EXPECT_EQ(g[0].at("a"), "1");
  EXPECT_EQ(g[0].at("b"), "x");
  EXPECT_EQ(g[1].at("b"), "y");  // last dimension fastest
  EXPECT_EQ(g[3].at("a"), "2");
  EXPECT_EQ(SearchSpace{}.grid().size(), 1u);
  EXPECT_THROW(SearchSpace::parse({"a=1", "a=2"}), InputError);
  EXPECT_THROW(SearchSpace::parse({"a=uniform(0,1)"}).grid(), InputError);
}

TEST(SearchSpace, RandomDrawsSeededAndInRange) {
  const SearchSpace s =
      SearchSpace::parse({"a=uniform(2,3)", "b=loguniform(1e-3,1e3)", "c=randint(4,7)", "d=[p,q]"});
  const std::vector<ParamMap> draws = s.sample(200, 5);
  ASSERT_EQ(draws.size(), 200u);
  std::set<std::string> ints, lists;
  int small_b = 0;
  for (const ParamMap& p : draws) {
    const double a = std::stod(p.at("a")), b = std::stod(p.at("b"));
    EXPECT_GE(a, 2.0);
    EXPECT_LT(a, 3.0);
    EXPECT_GE(b, 1e-3);
    EXPECT_LE(b, 1e3);
    small_b += b < 1.0;
    ints.insert(p.at("c"));
    lists.insert(p.at("d"));
  }
  EXPECT_EQ(ints, (std::set<std::string>{"4", "5", "6"}));  // randint excludes the upper bound
  EXPECT_EQ(lists.size(), 2u);
  EXPECT_GT(small_b, 60);  // log-uniform: about half below 1
  EXPECT_LT(small_b, 140);
  EXPECT_EQ(s.sample(200, 5), draws);
  EXPECT_NE(s.sample(200, 6), draws);
  // Lists only, fewer combinations than draws: the whole grid, as sklearn.
  EXPECT_EQ(SearchSpace::parse({"d=[p,q]"}).sample(10, 0).size(), 2u);
}

}  // namespace
}  // namespace tabula
