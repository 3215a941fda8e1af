using Microsoft.ML.OnnxRuntime;

namespace SegServe.Tools.UnitTests;

/// <summary>Runs a single-input, single-output ONNX model on ONNX Runtime's CPU provider.</summary>
internal static class OnnxRunner
{
    public static float[] Run(string modelPath, float[] input, long[] inputShape, out long[] outputShape)
    {
        using var options = new SessionOptions();
        using var session = new InferenceSession(modelPath, options);
        return Run(session, input, inputShape, out outputShape);
    }

    public static float[] Run(byte[] model, float[] input, long[] inputShape, out long[] outputShape)
    {
        using var options = new SessionOptions();
        using var session = new InferenceSession(model, options);
        return Run(session, input, inputShape, out outputShape);
    }

    private static float[] Run(InferenceSession session, float[] input, long[] inputShape, out long[] outputShape)
    {
        string inputName = session.InputMetadata.Keys.Single();
        string outputName = session.OutputMetadata.Keys.Single();

        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
        OrtValue output = outputs[0];
        outputShape = output.GetTensorTypeAndShape().Shape;
        return output.GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The largest absolute difference between two equally long arrays.</summary>
    public static double MaxAbsoluteDifference(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"Lengths differ: {actual.Length} vs {expected.Length}.", nameof(actual));
        }

        double max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double difference = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(difference))
            {
                return double.PositiveInfinity;
            }

            max = Math.Max(max, difference);
        }

        return max;
    }
}
