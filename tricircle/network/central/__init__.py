"""The central Neutron server's plugins: regions are its availability zones."""
