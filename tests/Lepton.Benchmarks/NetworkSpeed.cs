using System.Diagnostics;
using Lepton.Learning;

namespace Lepton.Benchmarks;

/// <summary>
/// One training epoch of an MLP on the CPU backend (and, with --ilgpu, the ILGPU backend): 100,000 rows × 50 features,
/// hidden 256-256, batch 256, Adam, binary cross-entropy — the shape of scripts/torch_mlp_epoch.py, its PyTorch peer.
/// Usage: network [--rows 100000] [--threads 2] [--epochs 3] [--ilgpu].
/// </summary>
public static class NetworkSpeed
{
    public static int Run(int rows, int threads, int epochs, bool ilgpu)
    {
        const int width = 50;
        TrainingSet data = Data(rows, width);
        var shape = new NetworkShape(width, [256, 256], 1, NetworkHead.Binary);
        var options = new NetworkOptions([256, 256], BatchSize: 256, Seed: 1);
        using IComputeBackend backend = ilgpu ? new IlgpuBackend() : new CpuBackend(threads);
        Console.WriteLine($"MLP {width}-256-256-1, {rows:N0} rows, batch 256, Adam; backend {backend.Name}, {threads} threads, .NET {Environment.Version}");
        for (int e = 0; e < epochs; e++)
        {
            var watch = Stopwatch.StartNew();
            NetworkTrainer.Train(data, shape, options with { Seed = e + 1 }, backend, epochs: 1);
            double seconds = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"epoch {e + 1}: {seconds:F2} s, {rows / seconds:N0} samples/s");
        }

        return 0;
    }

    /// <summary>A linearly separable binary problem of uniform features in [-1, 1], the same for a given size.</summary>
    public static TrainingSet Data(int rows, int width)
    {
        var random = new Random(1);
        float[] x = new float[rows * width], y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double sum = 0;
            for (int d = 0; d < width; d++)
            {
                float v = (float)(random.NextDouble() * 2 - 1);
                x[i * width + d] = v;
                sum += d % 3 == 0 ? v : -0.5 * v;
            }

            y[i] = sum > 0 ? 1 : 0;
        }

        return new TrainingSet(x, y, rows, width);
    }
}
