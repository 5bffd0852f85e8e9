// Second derivatives of the layer's loss (Hessian-vector products, Hessians)
// and of its VJP (so that frameworks differentiate the layer twice), by nested AutoDiffScalar.
#include "layer_arguments.hpp"

#include <string>
#include <vector>

#include "eigen_autodiff/fast/second_order.hpp"

namespace eigen_autodiff::bindings {

namespace {

template <typename T>
CArray<T> hvp_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                 const py::object& activation, const py::object& target, double scale,
                 const std::string& wrt, const CArray<T>& vector) {
  const LayerArguments<T> args(x, w, bias, activation);
  const ForwardWrt parameter = parameter_from_name(wrt);
  const Index size = parameter_size(args.layer, parameter);
  const T* v = optional_data<T>(vector, size, "vector");
  const SquaredError<T> loss{optional_data<T>(target, args.batch * args.outputs, "target"), scale};
  check_memory_budget(hvp_bytes<T>(args.batch, args.outputs, size),
                      "the Hessian-vector product w.r.t. " + wrt + " on " + args.shapes());
  CArray<T> out = aligned_array<T>({size});
  const auto context = compute_context();
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      hessian_vector_product(context->device_for(3 * args.multiply_adds()), args.layer, activation,
                             loss, parameter, v, out.mutable_data());
    });
  }
  return out;
}

template <typename T>
CArray<T> hessian_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                     const py::object& activation, const py::object& target, double scale,
                     const std::string& wrt) {
  const LayerArguments<T> args(x, w, bias, activation);
  const ForwardWrt parameter = parameter_from_name(wrt);
  const Index size = parameter_size(args.layer, parameter);
  const SquaredError<T> loss{optional_data<T>(target, args.batch * args.outputs, "target"), scale};
  check_memory_budget(hessian_bytes<T>(args.batch, args.outputs, size),
                      "the Hessian w.r.t. " + wrt + " on " + args.shapes());
  CArray<T> out = aligned_array<T>({size, size});
  const auto context = compute_context();
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      hessian(context->device_for(static_cast<double>(size) * size * args.batch), args.layer,
              activation, loss, parameter, out.mutable_data());
    });
  }
  return out;
}

template <typename T>
py::tuple vjp_of_vjp_py(const CArray<T>& x, const CArray<T>& w, const py::object& bias,
                        const py::object& activation, const CArray<T>& cotangent,
                        const py::object& grad_x, const py::object& grad_w,
                        const py::object& grad_b, bool wrt_x, bool wrt_w, bool wrt_b,
                        bool wrt_cotangent) {
  const LayerArguments<T> args(x, w, bias, activation);
  const Wanted wanted{wrt_x, wrt_w, wrt_b};
  const T* ct = optional_data<T>(cotangent, args.batch * args.outputs, "cotangent");
  const T* gx = optional_data<T>(grad_x, args.batch * args.inputs, "grad_x");
  const T* gw = optional_data<T>(grad_w, args.inputs * args.outputs, "grad_w");
  const T* gb = optional_data<T>(grad_b, args.outputs, "grad_b");
  check_memory_budget(vjp_of_vjp_bytes<T>(args.batch, args.inputs, args.outputs, wanted),
                      "the VJP of the VJP on " + args.shapes());
  GradientArrays<T> grads(args, wanted);
  CArray<T> d_cotangent =
      wrt_cotangent ? aligned_array<T>({args.batch, args.outputs}) : CArray<T>();
  const auto context = compute_context();
  {
    const Computing computing;
    with_activation(args.activation, [&](const auto& activation) {
      layer_vjp_of_vjp(context->device_for(5 * args.multiply_adds()), args.layer, activation, ct,
                       gx, gw, gb,
                       {grads.pointers.dx, grads.pointers.dw, grads.pointers.db,
                        wrt_cotangent ? d_cotangent.mutable_data() : nullptr});
    });
  }
  return py::make_tuple(grads.as_tuple(),
                        wrt_cotangent ? py::object(d_cotangent) : py::object(py::none()));
}

template <typename T>
void define_for(py::module_& m) {
  m.def("layer_hvp", &hvp_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("target"), py::arg("scale"), py::arg("wrt"),
        py::arg("vector").noconvert(),
        "H v for the Hessian of the loss w.r.t. wrt ('w', 'x' or 'b'), flat.");
  m.def("layer_hessian", &hessian_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("target"), py::arg("scale"), py::arg("wrt"),
        "The Hessian of the loss w.r.t. wrt, (size, size).");
  m.def("layer_vjp_of_vjp", &vjp_of_vjp_py<T>, py::arg("x").noconvert(), py::arg("w").noconvert(),
        py::arg("bias"), py::arg("activation"), py::arg("cotangent").noconvert(), py::arg("grad_x"),
        py::arg("grad_w"), py::arg("grad_b"), py::arg("wrt_x"), py::arg("wrt_w"), py::arg("wrt_b"),
        py::arg("wrt_cotangent"),
        "((dx, dw, db), dcotangent): the VJP of layer_vjp with upstream gradients "
        "(grad_x, grad_w, grad_b), None where not wanted.");
}

}  // namespace

void register_second_order(py::module_& m) {
  define_for<float>(m);
  define_for<double>(m);
}

}  // namespace eigen_autodiff::bindings
