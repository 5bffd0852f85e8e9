"""Where autodiff goes wrong: gradient checks, diagnoses and the operation to blame.

``finite_differences`` is the one independent estimate of a derivative, ``check_grad`` compares
AD derivatives with it, ``diagnose`` finds failing points, ``blame`` names the operation that
failed, ``plot`` draws a diagnosis.
"""
