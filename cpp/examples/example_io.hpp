// Command-line plumbing shared by the article's programs: reading the layer's inputs from a text
// file (so tests can feed them data) and printing tensors as JSON (so tests can read results).
#pragma once

#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "eigen_autodiff/core/types.hpp"

namespace example_io {

struct Options {
  bool json = false;
  std::string input;  // empty: the article's data
  std::vector<std::string> positional;
};

inline Options parse_options(int argc, char** argv, const char* usage) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      options.json = true;
    } else if (arg == "--input" && i + 1 < argc) {
      options.input = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (!arg.empty() && arg[0] == '-' && arg.size() > 1 && !std::isdigit(arg[1])) {
      throw std::invalid_argument("unknown option " + arg + "\n" + usage);
    } else {
      options.positional.push_back(arg);
    }
  }
  return options;
}

// Reads "rows cols v00 v01 ..." (row-major, whitespace-separated).
template <typename T>
Eigen::Tensor<T, 2> read_tensor(std::istream& in, const std::string& what) {
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  if (!(in >> rows >> cols) || rows < 0 || cols < 0) {
    throw std::invalid_argument("input: expected the shape of " + what);
  }
  Eigen::Tensor<T, 2> tensor(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      if (!(in >> tensor(i, j))) {
        throw std::invalid_argument("input: too few values for " + what);
      }
    }
  }
  return tensor;
}

template <typename T>
std::pair<Eigen::Tensor<T, 2>, Eigen::Tensor<T, 2>> read_layer_inputs(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("cannot open input file " + path);
  }
  auto x = read_tensor<T>(in, "X");
  auto w = read_tensor<T>(in, "W");
  return {std::move(x), std::move(w)};
}

// The article's data (its input X, and W from Eigen's setRandom as in the article) or, with
// --input FILE, the file's.
inline std::pair<Eigen::Tensor<float, 2>, Eigen::Tensor<float, 2>> layer_inputs(
    const Options& options) {
  if (!options.input.empty()) {
    return read_layer_inputs<float>(options.input);
  }
  Eigen::Tensor<float, 2> x(3, 3);
  x.setValues({{-1., 0., 1.}, {2., 3., 4.}, {-1., -5., 2.}});
  Eigen::Tensor<float, 2> w(3, 2);
  w.setRandom();
  return {x, w};
}

template <typename T>
std::string json_number(T value) {
  std::ostringstream out;
  out << std::setprecision(std::numeric_limits<T>::max_digits10) << value;
  const std::string text = out.str();
  // JSON has no NaN or infinity; null keeps the document valid.
  return (text.find_first_of("ni") != std::string::npos) ? "null" : text;
}

template <typename Tensor>
std::string json_matrix(const Tensor& t) {
  std::string text = "[";
  for (Eigen::Index i = 0; i < t.dimension(0); ++i) {
    text += (i ? ", [" : "[");
    for (Eigen::Index j = 0; j < t.dimension(1); ++j) {
      text += (j ? ", " : "") + json_number(t(i, j));
    }
    text += "]";
  }
  return text + "]";
}

}  // namespace example_io
