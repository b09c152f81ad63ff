using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Lepton.Learning;

/// <summary>
/// GPU kernels through ILGPU: on CUDA where a device is present, otherwise on ILGPU's CPU accelerator (how tests and CI
/// run the very same kernels). Each operation copies its operands to the device and the result back — simple and
/// exact, not yet fast: keeping a whole epoch's buffers on the device is the next step for the GPU trainer. The device
/// buffers are kept and grown, not allocated per operation: a CUDA allocation costs more than a small product. A
/// backend serves one training at a time (operations are serialized).
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
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _buffers = new MemoryBuffer1D<float, Stride1D.Dense>?[3];
    private readonly Lock _gate = new();

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
        lock (_gate)
        {
            ArrayView<float> da = Upload(0, a[..(m * k)]), db = Upload(1, b[..(k * n)]), dc = Upload(2, c[..(m * n)]);
            _gemm(new Index2D(m, n), da, db, dc, new GemmShape(m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, beta));
            Download(dc, c[..(m * n)]);
        }
    }

    public void AddRowVector(Span<float> matrix, int rows, int columns, ReadOnlySpan<float> vector)
    {
        lock (_gate)
        {
            ArrayView<float> dm = Upload(0, matrix[..(rows * columns)]), dv = Upload(1, vector[..columns]);
            _addRow(rows * columns, dm, dv, columns);
            Download(dm, matrix[..(rows * columns)]);
        }
    }

    public void ColumnSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> sums)
    {
        lock (_gate)
        {
            ArrayView<float> dm = Upload(0, matrix[..(rows * columns)]), ds = Buffer(1, columns);
            _columnSums(columns, dm, ds, rows);
            Download(ds, sums[..columns]);
        }
    }

    public void Relu(Span<float> values)
    {
        lock (_gate)
        {
            ArrayView<float> d = Upload(0, values);
            _relu(values.Length, d);
            Download(d, values);
        }
    }

    public void ReluBackward(ReadOnlySpan<float> outputs, Span<float> gradient)
    {
        lock (_gate)
        {
            ArrayView<float> dout = Upload(0, outputs[..gradient.Length]), dg = Upload(1, gradient);
            _reluBackward(gradient.Length, dout, dg);
            Download(dg, gradient);
        }
    }

    public void Dispose()
    {
        foreach (MemoryBuffer1D<float, Stride1D.Dense>? buffer in _buffers)
        {
            buffer?.Dispose();
        }

        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>The shape of one matrix product, passed to the kernel as one value.</summary>
    public readonly record struct GemmShape(int M, int N, int K, int TransposeA, int TransposeB, float Beta);

    /// <summary>A view of exactly <paramref name="length"/> elements of the slot's buffer, grown when too small.</summary>
    private ArrayView<float> Buffer(int slot, int length)
    {
        if (_buffers[slot] is not { } buffer || buffer.Length < length)
        {
            // Grown by half again, so a sequence of slowly growing operations does not reallocate each time.
            long size = Math.Max(1, Math.Max(length, (_buffers[slot]?.Length ?? 0) * 3 / 2));
            _buffers[slot]?.Dispose();
            buffer = _accelerator.Allocate1D<float>(size);
            _buffers[slot] = buffer;
        }

        return buffer.View.SubView(0, length).AsContiguous();
    }

    private ArrayView<float> Upload(int slot, ReadOnlySpan<float> data)
    {
        ArrayView<float> view = Buffer(slot, data.Length);
        if (data.Length > 0)
        {
            view.CopyFromCPU(data);
        }

        return view;
    }

    private void Download(ArrayView<float> view, Span<float> destination)
    {
        _accelerator.Synchronize();
        if (destination.Length > 0)
        {
            view.SubView(0, destination.Length).CopyToCPU(destination);
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
