namespace SegServe.Tools.SelfieImporter.Conversion;

/// <summary>Layout helpers for moving TFLite's NHWC tensors and OHWI filters into ONNX's NCHW / OIHW.</summary>
internal static class Layout
{
    /// <summary>Where each NHWC axis lands in NCHW.</summary>
    public static int NhwcAxisToNchw(int axis) => axis switch
    {
        0 => 0,
        1 => 2,
        2 => 3,
        3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "A 4-D tensor has axes 0 to 3."),
    };

    /// <summary>
    /// Permutes a dense row-major tensor: output axis i is input axis <paramref name="permutation"/>[i]
    /// (numpy's <c>transpose</c> convention).
    /// </summary>
    public static (float[] Values, int[] Shape) Transpose(float[] values, int[] shape, int[] permutation)
    {
        int rank = shape.Length;
        if (permutation.Length != rank)
        {
            throw new ArgumentException($"Permutation of rank {permutation.Length} does not fit a tensor of rank {rank}.", nameof(permutation));
        }

        var outputShape = new int[rank];
        for (int axis = 0; axis < rank; axis++)
        {
            outputShape[axis] = shape[permutation[axis]];
        }

        int[] inputStrides = RowMajorStrides(shape);
        var output = new float[values.Length];
        var index = new int[rank];
        for (int outputOffset = 0; outputOffset < output.Length; outputOffset++)
        {
            int inputOffset = 0;
            for (int axis = 0; axis < rank; axis++)
            {
                inputOffset += index[axis] * inputStrides[permutation[axis]];
            }

            output[outputOffset] = values[inputOffset];

            // Advance the output index like an odometer, last axis fastest.
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                if (++index[axis] < outputShape[axis])
                {
                    break;
                }

                index[axis] = 0;
            }
        }

        return (output, outputShape);
    }

    private static int[] RowMajorStrides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }

        return strides;
    }

    /// <summary>
    /// TensorFlow's SAME padding for one spatial axis: enough total padding that the output has ceil(in / stride)
    /// elements, with the odd element after (so a stride-2 3×3 conv on an even size pads 0 before, 1 after).
    /// </summary>
    public static (int Before, int After) SamePadding(int inputSize, int kernelSize, int stride, int dilation)
    {
        int effectiveKernel = ((kernelSize - 1) * dilation) + 1;
        int outputSize = (inputSize + stride - 1) / stride;
        int total = Math.Max(((outputSize - 1) * stride) + effectiveKernel - inputSize, 0);
        return (total / 2, total - (total / 2));
    }

    /// <summary>The output size of a convolution or pool along one axis, as TFLite computes it.</summary>
    public static int ConvolutionOutputSize(int inputSize, int kernelSize, int stride, int dilation, bool samePadding)
    {
        int effectiveKernel = ((kernelSize - 1) * dilation) + 1;
        return samePadding
            ? (inputSize + stride - 1) / stride
            : (inputSize - effectiveKernel + stride) / stride;
    }
}
