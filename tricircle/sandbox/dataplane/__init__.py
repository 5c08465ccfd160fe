"""A data plane of network namespaces standing in for hosts and VMs.

Everything lives in namespaces this package creates, named with the
prefix ``tcsb<tag>`` (see :mod:`.names`); nothing is added to the root
namespace, and traffic only ever runs inside the namespaces.
"""
