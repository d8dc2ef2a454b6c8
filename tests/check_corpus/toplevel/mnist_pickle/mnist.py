# 자기가 만든 MNIST 로더: mnist.pkl 을 읽는다 (이 폴더에는 아직 없다).
import os
import pickle

save_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist.pkl")


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    with open(save_file, 'rb') as f:
        dataset = pickle.load(f)
    return (dataset['train_img'], dataset['train_label']), (dataset['test_img'], dataset['test_label'])
