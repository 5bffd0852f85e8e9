// Traced activations: the TracedProgram class that Python's tracer fills with instructions.
#include "bindings.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eigen_autodiff/traced/program.hpp"
#include "eigen_autodiff/traced/replay.hpp"

namespace eigen_autodiff::bindings {

namespace {

py::tuple instruction_tuple(const Instruction& in);

constexpr long long max_registers = std::numeric_limits<std::uint16_t>::max();

std::uint16_t register_index(const py::handle& value, const char* what) {
  const auto index = value.cast<long long>();
  if (index < 0 || index > max_registers) {
    throw py::value_error(std::string("traced program: register ") + what + " = " +
                          std::to_string(index) + " is outside 0.." +
                          std::to_string(max_registers));
  }
  return static_cast<std::uint16_t>(index);
}

// One instruction from (op, lane, dst, a, b, c, constant).
Instruction instruction_from(const py::handle& item) {
  const auto fields = item.cast<py::tuple>();
  if (fields.size() != 7) {
    throw py::value_error(
        "traced program: an instruction is (op, lane, dst, a, b, c, constant), got " +
        std::string(py::repr(item)));
  }
  Instruction in;
  in.op = op_from_name(fields[0].cast<std::string>());
  in.lane = lane_from_name(fields[1].cast<std::string>());
  in.dst = register_index(fields[2], "dst");
  in.a = register_index(fields[3], "a");
  in.b = register_index(fields[4], "b");
  in.c = register_index(fields[5], "c");
  in.constant = fields[6].cast<double>();
  return in;
}

constexpr auto max_live_values = static_cast<long long>(TracedProgram::max_live_values);

// The tracer gives each value that is live at once a register of its own, so a destination
// beyond the last register means too many live values: say so, rather than name the register.
void check_live_values(const py::sequence& instructions, const std::string& name) {
  long long registers = 0;
  for (const py::handle item : instructions) {
    const auto fields = item.cast<py::tuple>();
    if (fields.size() == 7) {
      registers = std::max(registers, fields[2].cast<long long>() + 1);
    }
  }
  if (registers > max_live_values) {
    throw py::value_error("traced program" + (name.empty() ? std::string() : " '" + name + "'") +
                          ": activation too large: " + std::to_string(registers) +
                          " live values, at most " + std::to_string(max_live_values) +
                          "; split it into several activations");
  }
}

std::shared_ptr<TracedProgram> program_from(const py::sequence& instructions, std::uint16_t output,
                                            const std::string& name) {
  check_live_values(instructions, name);
  std::vector<Instruction> code;
  code.reserve(instructions.size());
  for (const py::handle item : instructions) {
    code.push_back(instruction_from(item));
  }
  return std::make_shared<TracedProgram>(std::move(code), output, name);
}

py::list instruction_list(const TracedProgram& program) {
  py::list out;
  for (const Instruction& in : program.code()) {
    out.append(instruction_tuple(in));
  }
  return out;
}

py::tuple instruction_tuple(const Instruction& in) {
  return py::make_tuple(std::string(op_info(in.op).name), std::string(lane_name(in.lane)), in.dst,
                        in.a, in.b, in.c, in.constant);
}

template <typename T>
py::tuple replay_value(const ReplayValue<T>& v) {
  return py::make_tuple(v.value, v.derivative);
}

template <typename T>
py::list replay_py(const TracedProgram& program, T x) {
  py::list steps;
  for (const ReplayStep<T>& step : replay(program, x)) {
    py::list operands;
    for (std::size_t j = 0; j < op_info(step.instruction.op).arity(); ++j) {
      operands.append(replay_value(step.operands[j]));
    }
    steps.append(py::make_tuple(instruction_tuple(step.instruction), py::tuple(operands),
                                replay_value(step.result)));
  }
  return steps;
}

const char* operand_kind_name(Operand kind) {
  switch (kind) {
    case Operand::same:
      return "same";
    case Operand::ad:
      return "ad";
    case Operand::value:
      return "value";
    case Operand::condition:
      return "condition";
    case Operand::none:
      break;
  }
  return "none";
}

// op_table as Python sees it: what the tracer, the diagnostics and the command line derive from.
py::tuple operations(const py::object& record) {
  py::list out;
  for (const OpInfo& info : op_table) {
    py::list operands;
    for (std::size_t j = 0; j < info.arity(); ++j) {
      operands.append(operand_kind_name(info.operands()[j]));
    }
    out.append(record(std::string(info.name), info.arity(), py::tuple(operands),
                      operand_kind_name(info.dst()), info.uses_constant(), std::string(info.numpy),
                      std::string(info.doc)));
  }
  return py::tuple(out);
}

// One node of a traced graph from (op, lane, operands, constant).
TracedProgram::Node node_from(const py::handle& item) {
  const auto fields = item.cast<py::tuple>();
  if (fields.size() != 4) {
    throw py::value_error("traced graph: a node is (op, lane, operands, constant), got " +
                          std::string(py::repr(item)));
  }
  TracedProgram::Node node{op_from_name(fields[0].cast<std::string>()),
                           lane_from_name(fields[1].cast<std::string>()),
                           {0, 0, 0},
                           fields[3].cast<double>()};
  const auto operands = fields[2].cast<py::sequence>();
  if (operands.size() != op_info(node.op).arity()) {
    throw py::value_error("traced graph: " + std::string(op_info(node.op).name) + " takes " +
                          std::to_string(op_info(node.op).arity()) + " operands, got " +
                          std::to_string(operands.size()));
  }
  for (std::size_t j = 0; j < operands.size(); ++j) {
    node.operands[j] = operands[j].cast<std::size_t>();
  }
  return node;
}

}  // namespace

void register_traced(py::module_& m) {
  const py::object operation =
      py::module_::import("collections")
          .attr("namedtuple")("Operation", "name arity operands result uses_constant numpy doc");
  operation.attr("__module__") = m.attr("__name__");
  m.attr("Operation") = operation;
  m.attr("OPERATIONS") = operations(operation);
  py::class_<TracedProgram, std::shared_ptr<TracedProgram>>(
      m, "TracedProgram",
      R"doc(An activation compiled from a traced Python callable: instructions over registers,
evaluated per element in C++ on float, double or AutoDiffScalar.

Example:
    >>> import eigen_autodiff as ead
    >>> def swish(x):
    ...     return x * ead.sigmoid(x)
    >>> program = ead.trace(swish)
    >>> print(program)
    TracedProgram 'swish':
    a1 = sigmoid a0
    a2 = mul a0, a1
    return a2
    >>> program.instructions[0]
    ('sigmoid', 'ad', 1, 0, 0, 0, 0.0)
    >>> print(ead.derivative(program, 0.0)[1])
    0.5
)doc")
      .def(py::init(&program_from), py::arg("instructions"), py::arg("output"),
           py::arg("name") = "",
           "Checks and stores a program: instructions (op, lane, dst, a, b, c, constant), the "
           "ad register holding the result, and a name for messages.")
      .def_static(
          "from_graph",
          [](const py::sequence& nodes, std::size_t output, const std::string& name) {
            std::vector<TracedProgram::Node> graph;
            graph.reserve(nodes.size());
            for (const py::handle item : nodes) {
              graph.push_back(node_from(item));
            }
            return std::make_shared<TracedProgram>(TracedProgram::from_graph(graph, output, name));
          },
          py::arg("nodes"), py::arg("output"), py::arg("name") = "",
          "The program computing node `output` of a single-assignment graph: nodes[k - 1] is "
          "node k, (op, lane, operand node indices, constant); node 0 is x. Registers are "
          "allocated and unused nodes dropped here.")
      .def_property_readonly("instructions", &instruction_list,
                             "The instructions as given, (op, lane, dst, a, b, c, constant) each.")
      .def_property_readonly("output", &TracedProgram::output, "The ad register of the result.")
      .def_property_readonly("name", &TracedProgram::name, "The traced callable's name.")
      .def("__str__",
           [](const TracedProgram& program) {
             return "TracedProgram '" + program.name() + "':\n" + program.disassemble();
           })
      .def(
          "replay",
          [](const TracedProgram& program, double x, const std::string& dtype) {
            if (dtype == "float32") {
              return replay_py<float>(program, static_cast<float>(x));
            }
            if (dtype == "float64") {
              return replay_py<double>(program, x);
            }
            throw py::value_error("dtype must be 'float32' or 'float64', got '" + dtype + "'");
          },
          py::arg("x"), py::arg("dtype"),
          "Each instruction of the derivative code at x, as (instruction, operands, result), each "
          "operand and the result a (value, derivative w.r.t. x or NaN) pair, for the "
          "diagnostics.")
      // A program is its instructions, output and name: it pickles as the call that builds it
      // again (floats pickle bit for bit), so an unpickled program is checked like a new one.
      // __reduce__ rather than py::pickle: pickle protocols 0 and 1 would otherwise create the
      // instance through object.__new__, which pybind11 cannot do (the process aborts).
      .def("__reduce__",
           [](const py::object& self) {
             const auto& program = self.cast<const TracedProgram&>();
             return py::make_tuple(
                 py::type::of(self),
                 py::make_tuple(instruction_list(program), program.output(), program.name()));
           })
      // Programs are immutable, but a copy is a distinct object, as copy.copy promises.
      .def("__copy__",
           [](const TracedProgram& program) { return std::make_shared<TracedProgram>(program); })
      .def(
          "__deepcopy__",
          [](const TracedProgram& program, const py::dict&) {
            return std::make_shared<TracedProgram>(program);
          },
          py::arg("memo"))
      .def("__repr__", [](const TracedProgram& program) {
        return "<TracedProgram '" + program.name() + "', " + std::to_string(program.code().size()) +
               (program.code().size() == 1 ? " instruction>" : " instructions>");
      });
}

}  // namespace eigen_autodiff::bindings
