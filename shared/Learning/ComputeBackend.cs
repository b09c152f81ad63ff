using System.Numerics.Tensors;

namespace Lepton.Learning;

/// <summary>
/// The arithmetic a network needs, on row-major float matrices. Two implementations: <see cref="CpuBackend"/>
/// (vectorized, cache-blocked, row-parallel) and <see cref="IlgpuBackend"/> (kernels on ILGPU's CPU accelerator in
/// tests, CUDA where a GPU is). Every operation is deterministic: each output element is summed in a fixed order.
/// </summary>
public interface IComputeBackend : IDisposable
{
    string Name { get; }

    /// <summary>C[m×n] = op(A)·op(B) + beta·C, with op(A) m×k and op(B) k×n.</summary>
    void Gemm(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, float beta);

    /// <summary>Adds a row vector to every row of an m×n matrix (the bias).</summary>
    void AddRowVector(Span<float> matrix, int rows, int columns, ReadOnlySpan<float> vector);

    /// <summary>Sums of the columns of an m×n matrix (the bias gradient).</summary>
    void ColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums);

    void Relu(Span<float> values);

    /// <summary>Zeroes the gradient where the layer's output was not positive.</summary>
    void ReluBackward(ReadOnlySpan<float> outputs, Span<float> gradient);
}

/// <summary>
/// CPU backend: System.Numerics.Tensors primitives over contiguous rows. A·B and Aᵀ·B accumulate scaled rows of B into
/// rows of C (the inner loop is a vectorized multiply-add over contiguous memory), in blocks of k that stay in cache;
/// A·Bᵀ is a dot product of two contiguous rows. Rows of C are split over the cores, so the result does not depend on
/// the thread count.
/// </summary>
public sealed class CpuBackend(int? threads = null) : IComputeBackend
{
    private const int BlockK = 128;
    private const int ParallelWork = 1 << 15;
    private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount };

    public string Name => "cpu";

    public unsafe void Gemm(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, float beta)
    {
        if (beta == 0)
        {
            c[..(m * n)].Clear();
        }
        else if (beta != 1)
        {
            TensorPrimitives.Multiply(c[..(m * n)], beta, c[..(m * n)]);
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            float* A = pa, B = pb, C = pc;
            void Rows(int from, int to)
            {
                for (int i = from; i < to; i++)
                {
                    var row = new Span<float>(C + (long)i * n, n);
                    if (transposeB)
                    {
                        // C[i, j] = Σ_p A[i, p] · B[j, p]: B is n×k, row j contiguous.
                        var ai = new ReadOnlySpan<float>(A + (long)i * k, k);
                        for (int j = 0; j < n; j++)
                        {
                            row[j] += TensorPrimitives.Dot(ai, new ReadOnlySpan<float>(B + (long)j * k, k));
                        }

                        continue;
                    }

                    for (int p0 = 0; p0 < k; p0 += BlockK)
                    {
                        int p1 = Math.Min(k, p0 + BlockK);
                        for (int p = p0; p < p1; p++)
                        {
                            // op(A)[i, p] is A[i, p], or A[p, i] when A is stored k×m.
                            float aip = transposeA ? A[(long)p * m + i] : A[(long)i * k + p];
                            if (aip != 0)
                            {
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(B + (long)p * n, n), aip, row, row);
                            }
                        }
                    }
                }
            }

            if ((long)m * n * k < ParallelWork || _parallel.MaxDegreeOfParallelism == 1)
            {
                Rows(0, m);
            }
            else
            {
                int chunks = Math.Min(m, _parallel.MaxDegreeOfParallelism * 4);
                Parallel.For(0, chunks, _parallel, t => Rows((int)((long)m * t / chunks), (int)((long)m * (t + 1) / chunks)));
            }
        }
    }

    public void AddRowVector(Span<float> matrix, int rows, int columns, ReadOnlySpan<float> vector)
    {
        for (int i = 0; i < rows; i++)
        {
            Span<float> row = matrix.Slice(i * columns, columns);
            TensorPrimitives.Add(row, vector, row);
        }
    }

    public void ColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        sums[..columns].Clear();
        for (int i = 0; i < rows; i++)
        {
            TensorPrimitives.Add(sums[..columns], matrix.Slice(i * columns, columns), sums[..columns]);
        }
    }

    public void Relu(Span<float> values) => TensorPrimitives.Max(values, 0f, values);

    public void ReluBackward(ReadOnlySpan<float> outputs, Span<float> gradient)
    {
        for (int i = 0; i < gradient.Length; i++)
        {
            if (outputs[i] <= 0)
            {
                gradient[i] = 0;
            }
        }
    }

    public void Dispose()
    {
    }
}
