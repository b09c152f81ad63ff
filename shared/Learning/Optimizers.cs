using System.Numerics.Tensors;

namespace Lepton.Learning;

/// <summary>Updates a flat parameter vector from its gradient.</summary>
public interface IOptimizer
{
    void Step(Span<float> parameters, ReadOnlySpan<float> gradient);
}

/// <summary>
/// Stochastic gradient descent with momentum and L2 regularization (added to the gradient, so it is also carried by
/// the momentum): v ← μ·v + (g + λ·θ); θ ← θ − η·v.
/// </summary>
public sealed class SgdMomentum(int size, float learningRate, float momentum = 0.9f, float l2 = 0) : IOptimizer
{
    private readonly float[] _velocity = new float[size];
    private readonly float[] _step = new float[size];

    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        Span<float> g = _step.AsSpan(0, parameters.Length);
        TensorPrimitives.MultiplyAdd(parameters, l2, gradient, g);
        TensorPrimitives.MultiplyAdd(_velocity, momentum, g, _velocity);
        TensorPrimitives.MultiplyAdd(_velocity, -learningRate, parameters, parameters);
    }
}

/// <summary>
/// Adam with decoupled weight decay (AdamW, Loshchilov and Hutter): moments of the gradient with bias correction, and
/// θ ← θ − η·(m̂ / (√v̂ + ε) + λ·θ).
/// </summary>
public sealed class AdamW(int size, float learningRate, float weightDecay = 0, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f) : IOptimizer
{
    private readonly float[] _m = new float[size];
    private readonly float[] _v = new float[size];
    private int _t;

    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        _t++;
        float correction1 = 1 - MathF.Pow(beta1, _t), correction2 = 1 - MathF.Pow(beta2, _t);
        float rate = learningRate / correction1, root = MathF.Sqrt(correction2);
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradient[i];
            _m[i] = beta1 * _m[i] + (1 - beta1) * g;
            _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
            parameters[i] -= rate * _m[i] / (MathF.Sqrt(_v[i]) / root + epsilon) + learningRate * weightDecay * parameters[i];
        }
    }
}
