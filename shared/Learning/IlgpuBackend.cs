using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Lepton.Learning;

/// <summary>
/// GPU kernels through ILGPU: on CUDA where a device is present, otherwise on ILGPU's CPU accelerator (how tests and CI
/// run the very same kernels). Each operation copies its operands to the device and the result back — simple and
/// exact, not yet fast: keeping a whole epoch's buffers on the device is the next step for the GPU trainer.
/// </summary>
public sealed class IlgpuBackend : IComputeBackend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _addRow;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _columnSums;
    private readonly Action<Index1D, ArrayView<float>> _relu;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _reluBackward;

    /// <summary>The first CUDA device's name, or null where there is none (no GPU, or no driver).</summary>
    public static string? CudaDeviceName()
    {
        try
        {
            using Context context = Context.Create(builder => builder.Default());
            foreach (CudaDevice device in context.GetCudaDevices())
            {
                return device.Name;
            }

            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    public IlgpuBackend(bool preferCuda = true)
    {
        _context = Context.Create(builder => builder.Default());
        Device? cuda = null;
        if (preferCuda)
        {
            foreach (CudaDevice device in _context.GetCudaDevices())
            {
                cuda = device;
                break;
            }
        }

        _accelerator = cuda is not null ? cuda.CreateAccelerator(_context) : _context.CreateCPUAccelerator(0);
        _gemm = _accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernel);
        _addRow = _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(AddRowKernel);
        _columnSums = _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ColumnSumsKernel);
        _relu = _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(ReluKernel);
        _reluBackward = _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ReluBackwardKernel);
    }

    public string Name => $"ilgpu-{_accelerator.AcceleratorType.ToString().ToLowerInvariant()}";

    public bool IsCuda => _accelerator.AcceleratorType == AcceleratorType.Cuda;

    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, float beta)
    {
        using MemoryBuffer1D<float, Stride1D.Dense> da = Upload(a[..(m * k)]), db = Upload(b[..(k * n)]), dc = Upload(c[..(m * n)]);
        _gemm(new Index2D(m, n), da.View, db.View, dc.View, new GemmShape(m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, beta));
        Download(dc, c[..(m * n)]);
    }

    public void AddRowVector(Span<float> matrix, int rows, int columns, ReadOnlySpan<float> vector)
    {
        using MemoryBuffer1D<float, Stride1D.Dense> dm = Upload(matrix[..(rows * columns)]), dv = Upload(vector[..columns]);
        _addRow(rows * columns, dm.View, dv.View, columns);
        Download(dm, matrix[..(rows * columns)]);
    }

    public void ColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        using MemoryBuffer1D<float, Stride1D.Dense> dm = Upload(matrix[..(rows * columns)]), ds = _accelerator.Allocate1D<float>(columns);
        _columnSums(columns, dm.View, ds.View, rows);
        Download(ds, sums[..columns]);
    }

    public void Relu(Span<float> values)
    {
        using MemoryBuffer1D<float, Stride1D.Dense> d = Upload(values);
        _relu(values.Length, d.View);
        Download(d, values);
    }

    public void ReluBackward(ReadOnlySpan<float> outputs, Span<float> gradient)
    {
        using MemoryBuffer1D<float, Stride1D.Dense> dout = Upload(outputs[..gradient.Length]), dg = Upload(gradient);
        _reluBackward(gradient.Length, dout.View, dg.View);
        Download(dg, gradient);
    }

    public void Dispose()
    {
        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>The shape of one matrix product, passed to the kernel as one value.</summary>
    public readonly record struct GemmShape(int M, int N, int K, int TransposeA, int TransposeB, float Beta);

    private MemoryBuffer1D<float, Stride1D.Dense> Upload(ReadOnlySpan<float> data)
    {
        MemoryBuffer1D<float, Stride1D.Dense> buffer = _accelerator.Allocate1D<float>(Math.Max(1, data.Length));
        if (data.Length > 0)
        {
            buffer.View.SubView(0, data.Length).AsContiguous().CopyFromCPU(data);
        }

        return buffer;
    }

    private void Download(MemoryBuffer1D<float, Stride1D.Dense> buffer, Span<float> destination)
    {
        _accelerator.Synchronize();
        if (destination.Length > 0)
        {
            buffer.View.SubView(0, destination.Length).AsContiguous().CopyToCPU(destination);
        }
    }

    // One thread per element of C, summing over k in order (the CPU backend's order for A·B and Aᵀ·B).
    private static void GemmKernel(Index2D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        int i = index.X, j = index.Y;
        float sum = 0;
        for (int p = 0; p < s.K; p++)
        {
            float av = s.TransposeA != 0 ? a[p * s.M + i] : a[i * s.K + p];
            float bv = s.TransposeB != 0 ? b[j * s.K + p] : b[p * s.N + j];
            sum += av * bv;
        }

        int at = i * s.N + j;
        c[at] = s.Beta == 0 ? sum : s.Beta * c[at] + sum;
    }

    private static void AddRowKernel(Index1D index, ArrayView<float> matrix, ArrayView<float> vector, int columns) =>
        matrix[index] += vector[index % columns];

    private static void ColumnSumsKernel(Index1D column, ArrayView<float> matrix, ArrayView<float> sums, int rows)
    {
        int columns = (int)sums.Length;
        float sum = 0;
        for (int r = 0; r < rows; r++)
        {
            sum += matrix[r * columns + column];
        }

        sums[column] = sum;
    }

    private static void ReluKernel(Index1D index, ArrayView<float> values) => values[index] = values[index] > 0 ? values[index] : 0;

    private static void ReluBackwardKernel(Index1D index, ArrayView<float> outputs, ArrayView<float> gradient)
    {
        if (outputs[index] <= 0)
        {
            gradient[index] = 0;
        }
    }
}
