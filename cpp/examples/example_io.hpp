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
#include <utility>
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

// The input's whitespace-separated words, read once: every size is then checked against the
// number of values actually present before anything is allocated for it.
class InputWords {
 public:
  explicit InputWords(std::istream& in) {
    for (std::string word; in >> word;) {
      words_.push_back(std::move(word));
    }
  }

  std::size_t remaining() const { return words_.size() - next_; }

  // A size: a whole non-negative decimal number that fits in Eigen::Index.
  Eigen::Index size(const std::string& what) {
    const std::string word = take("the " + what);
    Eigen::Index value = 0;
    std::size_t used = 0;
    try {
      value = static_cast<Eigen::Index>(std::stoll(word, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < 0 || word[0] == '+') {
      throw std::invalid_argument("input: the " + what +
                                  " must be a non-negative whole number, got '" + word + "'");
    }
    return value;
  }

  template <typename T>
  T value(const std::string& what) {
    const std::string word = take("a value of " + what);
    std::istringstream in(word);
    T value{};
    if (!(in >> value) || !(in >> std::ws).eof()) {
      throw std::invalid_argument("input: '" + word + "' is not a number (in " + what + ")");
    }
    return value;
  }

 private:
  std::string take(const std::string& what) {
    if (next_ == words_.size()) {
      throw std::invalid_argument("input: missing " + what);
    }
    return words_[next_++];
  }

  std::vector<std::string> words_;
  std::size_t next_ = 0;
};

// Reads "rows cols v00 v01 ..." (row-major). rows * cols is checked against the values present
// (without overflow) before the tensor is allocated: a hostile shape such as 4 x 2**62 + 1, whose
// product wraps around to 4, must not size the buffer that the values are then written to.
template <typename T>
Eigen::Tensor<T, 2> read_tensor(InputWords& words, const std::string& what) {
  const Eigen::Index rows = words.size("number of rows of " + what);
  const Eigen::Index cols = words.size("number of columns of " + what);
  const auto present = static_cast<Eigen::Index>(words.remaining());
  if (rows != 0 && cols > present / rows) {
    throw std::invalid_argument("input: " + what + " of shape (" + std::to_string(rows) + ", " +
                                std::to_string(cols) + ") needs more values than the " +
                                std::to_string(present) + " left in the input");
  }
  Eigen::Tensor<T, 2> tensor(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      tensor(i, j) = words.value<T>(what);
    }
  }
  return tensor;
}

template <typename T>
std::pair<Eigen::Tensor<T, 2>, Eigen::Tensor<T, 2>> read_layer_inputs(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("input: cannot open input file " + path);
  }
  InputWords words(in);
  auto x = read_tensor<T>(words, "X");
  auto w = read_tensor<T>(words, "W");
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
