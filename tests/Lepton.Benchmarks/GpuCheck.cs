using System.Diagnostics;
using Lepton.Learning;

namespace Lepton.Benchmarks;

/// <summary>
/// The CUDA path of the network trainer, on a machine with an NVIDIA GPU: every backend operation and a short training
/// run compared with the CPU backend, then epoch times on both. CI has no GPU, so this is run by hand on one.
/// Usage: gpu [--rows 100000] [--epochs 2] [--cpu-accelerator]. Exit code 0: CUDA agrees with the CPU; 1: it does not; 3: no CUDA device.
/// </summary>
public static class GpuCheck
{
    private const double Tolerance = 1e-4;

    /// <param name="cpuAccelerator">Without a device, check ILGPU's CPU accelerator instead (to try this check itself).</param>
    public static int Run(int rows, int epochs, bool cpuAccelerator)
    {
        Stopwatch watch = Stopwatch.StartNew();
        string? device = IlgpuBackend.CudaDeviceName();
        if (device is null && !cpuAccelerator)
        {
            Console.WriteLine("no CUDA device (or no driver): nothing to check");
            return 3;
        }

        using var cuda = new IlgpuBackend(preferCuda: !cpuAccelerator);
        Console.WriteLine($"device {device ?? "none"}, backend {cuda.Name}, kernels loaded in {watch.Elapsed.TotalSeconds:F2} s, .NET {Environment.Version}");
        if (!cuda.IsCuda && !cpuAccelerator)
        {
            Console.WriteLine("FAIL: a CUDA device is present but the backend did not take it");
            return 1;
        }

        using var cpu = new CpuBackend();
        bool agree = CompareOperations(cpu, cuda) & CompareTraining(cpu, cuda);
        foreach (int batch in new[] { 256, 4096 })
        {
            TimeEpochs(rows, epochs, batch, cpu);
            TimeEpochs(rows, epochs, batch, cuda);
        }

        Console.WriteLine(agree ? "PASS: CUDA agrees with the CPU backend" : "FAIL: CUDA differs from the CPU backend");
        return agree ? 0 : 1;
    }

    private static bool CompareOperations(IComputeBackend cpu, IComputeBackend cuda)
    {
        bool ok = true;
        const int m = 257, n = 129, k = 300;
        foreach ((bool ta, bool tb) in new[] { (false, false), (true, false), (false, true) })
        {
            foreach (float beta in new[] { 0f, 1f })
            {
                float[] a = Random(m * k, 1), b = Random(k * n, 2), c1 = Random(m * n, 3), c2 = (float[])c1.Clone();
                cpu.Gemm(ta, tb, m, n, k, a, b, c1, beta);
                cuda.Gemm(ta, tb, m, n, k, a, b, c2, beta);
                ok &= Report($"gemm transposeA={ta} transposeB={tb} beta={beta}", c1, c2);
            }
        }

        float[] matrix = Random(m * n, 4), vector = Random(n, 5);
        float[] added1 = (float[])matrix.Clone(), added2 = (float[])matrix.Clone();
        cpu.AddRowVector(added1, m, n, vector);
        cuda.AddRowVector(added2, m, n, vector);
        ok &= Report("add row vector", added1, added2);

        float[] sums1 = new float[n], sums2 = new float[n];
        cpu.ColumnSums(matrix, m, n, sums1);
        cuda.ColumnSums(matrix, m, n, sums2);
        ok &= Report("column sums", sums1, sums2);

        float[] relu1 = (float[])matrix.Clone(), relu2 = (float[])matrix.Clone();
        cpu.Relu(relu1);
        cuda.Relu(relu2);
        ok &= Report("relu", relu1, relu2);

        float[] gradient1 = Random(m * n, 6), gradient2 = (float[])gradient1.Clone();
        cpu.ReluBackward(relu1, gradient1);
        cuda.ReluBackward(relu1, gradient2);
        return ok & Report("relu backward", gradient1, gradient2);
    }

    private static bool CompareTraining(IComputeBackend cpu, IComputeBackend cuda)
    {
        (TrainingSet data, NetworkShape shape) = Problem(4_000, 20, [64, 64]);
        var options = new NetworkOptions([64, 64], BatchSize: 128, Seed: 7);
        (float[] onCpu, _, _) = NetworkTrainer.Train(data, shape, options, cpu, epochs: 3);
        (float[] onCuda, _, _) = NetworkTrainer.Train(data, shape, options, cuda, epochs: 3);

        // Parameters are small numbers: relative to each, as the unit test of the two backends does.
        return Report("parameters after 3 epochs of 4,000 rows", onCpu, onCuda, floor: 1e-3);
    }

    private static void TimeEpochs(int rows, int epochs, int batch, IComputeBackend backend)
    {
        (TrainingSet data, NetworkShape shape) = Problem(rows, 50, [256, 256]);
        var options = new NetworkOptions([256, 256], BatchSize: batch, Seed: 1);
        for (int e = 0; e < epochs; e++)
        {
            var watch = Stopwatch.StartNew();
            NetworkTrainer.Train(data, shape, options with { Seed = e + 1 }, backend, epochs: 1);
            double seconds = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"{backend.Name,-12} MLP 50-256-256-1, {rows:N0} rows, batch {batch,5}: epoch {e + 1} {seconds,7:F2} s, {rows / seconds,10:N0} samples/s");
        }
    }

    private static (TrainingSet Data, NetworkShape Shape) Problem(int rows, int width, int[] hidden) =>
        (NetworkSpeed.Data(rows, width), new NetworkShape(width, hidden, 1, NetworkHead.Binary));

    /// <summary>
    /// Largest difference relative to max(<paramref name="floor"/>, |expected|): sums of hundreds of products come out
    /// near zero after cancellation, where a pure relative difference measures only the order of the additions.
    /// </summary>
    private static bool Report(string what, float[] expected, float[] actual, double floor = 1)
    {
        double worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second) / Math.Max(floor, Math.Abs(p.First)));
        bool ok = worst <= Tolerance;
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}: largest relative difference {worst:G3}");
        return ok;
    }

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
