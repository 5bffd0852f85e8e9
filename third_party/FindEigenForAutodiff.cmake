# Finds Eigen 3.4 and provides the imported target Eigen3::Eigen, for this project's build and
# for the installed eigen_autodiffConfig.cmake (installed beside it).
#
# Order (see third_party/README.md):
#   1. what the user says: -DEigen3_DIR=<dir with Eigen3Config.cmake> or -DEIGEN3_INCLUDE_DIR=<dir>;
#   2. the PyPI package cmeel-eigen: beside an installed eigen_autodiff package
#      (EIGEN_AUTODIFF_EIGEN_HINTS, set by the config file), then installed for the Python of
#      Python_EXECUTABLE, Python3_EXECUTABLE, or python3 on PATH. Not find_package(Python): with
#      a virtual environment first on PATH but not activated, it may pick another interpreter.
#      Inside pip's isolated build, Python_EXECUTABLE is the build environment's;
#   3. the system (find_package(Eigen3 CONFIG), e.g. Debian's libeigen3-dev).
# Without Eigen it defines no target and leaves EIGEN_AUTODIFF_EIGEN_NOT_FOUND, the error that
# names the ways to provide it: the caller decides whether that is fatal (a config file must
# not stop a find_package(... QUIET)).
# The minor version is pinned because AutoDiffScalar's handling of empty derivative vectors
# changed between releases and our tests rely on 3.4's behaviour.

set(EIGEN_AUTODIFF_EIGEN_VERSION 3.4)
set(EIGEN_AUTODIFF_EIGEN_NOT_FOUND
    "eigen-autodiff needs Eigen ${EIGEN_AUTODIFF_EIGEN_VERSION}.x, which was not found. Provide it \
in one of three ways:\n\
  1. pip install \"cmeel-eigen>=3.4,<3.5\" (or pip install \"eigen-autodiff[cpp]\") for the \
Python that CMake is given with -DPython_EXECUTABLE=... (or Python3_EXECUTABLE, or the python3 \
first on PATH);\n\
  2. -DEIGEN3_INCLUDE_DIR=<folder with Eigen/Core> or -DEigen3_DIR=<folder with \
Eigen3Config.cmake>;\n\
  3. the system's package: apt install libeigen3-dev (Debian, Ubuntu).")

if(TARGET Eigen3::Eigen)
  return()
endif()

if(EIGEN3_INCLUDE_DIR)
  if(NOT EXISTS "${EIGEN3_INCLUDE_DIR}/Eigen/Core")
    message(FATAL_ERROR "EIGEN3_INCLUDE_DIR=${EIGEN3_INCLUDE_DIR} has no Eigen/Core")
  endif()
  file(STRINGS "${EIGEN3_INCLUDE_DIR}/Eigen/src/Core/util/Macros.h" _eigen_version_lines
       REGEX "#define EIGEN_(WORLD|MAJOR)_VERSION")
  string(REGEX MATCHALL "[0-9]+" _eigen_version_numbers "${_eigen_version_lines}")
  string(REPLACE ";" "." _eigen_found_version "${_eigen_version_numbers}")
  if(NOT _eigen_found_version VERSION_EQUAL EIGEN_AUTODIFF_EIGEN_VERSION)
    message(FATAL_ERROR "EIGEN3_INCLUDE_DIR holds Eigen ${_eigen_found_version}; "
                        "eigen-autodiff needs ${EIGEN_AUTODIFF_EIGEN_VERSION}")
  endif()
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
                                                 "${EIGEN3_INCLUDE_DIR}")
  message(STATUS "Eigen ${_eigen_found_version} from EIGEN3_INCLUDE_DIR: ${EIGEN3_INCLUDE_DIR}")
  return()
endif()

set(_eigen_hints)
if(NOT Eigen3_DIR)
  foreach(_eigen_hint IN LISTS EIGEN_AUTODIFF_EIGEN_HINTS)
    if(EXISTS "${_eigen_hint}")
      list(APPEND _eigen_hints "${_eigen_hint}")
    endif()
  endforeach()
  set(_eigen_pythons)
  foreach(_eigen_python_variable IN ITEMS Python_EXECUTABLE Python3_EXECUTABLE)
    if(${_eigen_python_variable})
      list(APPEND _eigen_pythons "${${_eigen_python_variable}}")
    endif()
  endforeach()
  find_program(EIGEN_AUTODIFF_PYTHON3_ON_PATH NAMES python3 NO_CACHE)
  if(EIGEN_AUTODIFF_PYTHON3_ON_PATH)
    list(APPEND _eigen_pythons "${EIGEN_AUTODIFF_PYTHON3_ON_PATH}")
  endif()
  # The first Python that has cmeel; the others are not asked.
  foreach(_eigen_python IN LISTS _eigen_pythons)
    # cmeel installs its prefix in a folder "cmeel.prefix" beside the "cmeel" package.
    execute_process(
      COMMAND "${_eigen_python}" -c
              "import cmeel, pathlib; print(pathlib.Path(cmeel.__file__).parent.parent / 'cmeel.prefix')"
      OUTPUT_VARIABLE _cmeel_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _cmeel_result
      ERROR_QUIET)
    if(_cmeel_result EQUAL 0 AND EXISTS "${_cmeel_prefix}")
      list(APPEND _eigen_hints "${_cmeel_prefix}")
      break()
    endif()
  endforeach()
endif()

find_package(Eigen3 ${EIGEN_AUTODIFF_EIGEN_VERSION} CONFIG QUIET HINTS ${_eigen_hints})
if(NOT Eigen3_FOUND OR NOT TARGET Eigen3::Eigen)
  return()
endif()
if(NOT Eigen3_VERSION VERSION_GREATER_EQUAL ${EIGEN_AUTODIFF_EIGEN_VERSION}
   OR Eigen3_VERSION VERSION_GREATER_EQUAL 3.5)
  message(FATAL_ERROR "Found Eigen ${Eigen3_VERSION} in ${Eigen3_DIR}; "
                      "eigen-autodiff needs ${EIGEN_AUTODIFF_EIGEN_VERSION}.x")
endif()
message(STATUS "Eigen ${Eigen3_VERSION} from ${Eigen3_DIR}")
