// Traced activations: the TracedProgram class that Python's tracer fills with instructions.
#include "bindings.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eigen_autodiff/traced_program.hpp"
#include "eigen_autodiff/traced_replay.hpp"

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

// The most values an activation may keep live at once: registers of one bank, numbered by 16
// bits.
constexpr long long max_live_values = max_registers;

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
py::list replay_py(const TracedProgram& program, T x) {
  py::list steps;
  for (const ReplayStep<T>& step : replay(program, x)) {
    steps.append(py::make_tuple(instruction_tuple(step.instruction), step.value, step.derivative));
  }
  return steps;
}

}  // namespace

void register_traced(py::module_& m) {
  py::class_<TracedProgram, std::shared_ptr<TracedProgram>>(
      m, "TracedProgram",
      "An activation compiled from a traced Python callable: instructions over registers, "
      "evaluated per element in C++ on float, double or AutoDiffScalar.")
      .def(py::init(&program_from), py::arg("instructions"), py::arg("output"),
           py::arg("name") = "",
           "Checks and stores a program: instructions (op, lane, dst, a, b, c, constant), the "
           "ad register holding the result, and a name for messages.")
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
          "Each instruction of the derivative code at x, as (instruction, value written, its "
          "derivative w.r.t. x or NaN), for the diagnostics.")
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
