"""garden.federated's FedAvg on scikit-learn's digits, as a Flower app."""
