"""A regional Neutron server's plugins: ML2 plus same-id copies of central's
resources."""
