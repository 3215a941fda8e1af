using System.Buffers.Binary;
using System.Globalization;
using SegServe.Tools.SelfieImporter.FlatBuffers;
using SegServe.Tools.SelfieImporter.Onnx;
using SegServe.Tools.SelfieImporter.TfLite;

namespace SegServe.Tools.SelfieImporter.Conversion;

/// <summary>
/// Converts a float TFLite image model (NHWC) into an NCHW ONNX graph (opset 14) with a dynamic batch.
/// Weights are re-laid out instead of wrapping the graph in Transposes; float16 weights behind Dequantize ops
/// are folded into float32 initializers. It covers the operators of the MediaPipe selfie segmenters; any other
/// operator stops the import with an <see cref="UnsupportedOperatorException"/>. See docs/model-import.md.
/// </summary>
public sealed class TfLiteToOnnxConverter
{
    public const int OpsetVersion = 14;

    /// <summary>ONNX IR version 7 is the one that goes with opset 14 (ONNX 1.9).</summary>
    public const int IrVersion = 7;

    public const string ProducerName = "SegServe.Tools.SelfieImporter";

    public const string ProducerVersion = "1.0";

    /// <summary>MediaPipe's transposed convolution, whose options are three raw int32: padding, stride_w, stride_h.</summary>
    public const string TransposeConvolutionCustomCode = "Convolution2DTransposeBias";

    // Builtin options field indices, in declaration order of schema.fbs.
    private const int ConvPaddingField = 0;
    private const int ConvStrideWField = 1;
    private const int ConvStrideHField = 2;
    private const int ConvActivationField = 3;
    private const int ConvDilationWField = 4;
    private const int ConvDilationHField = 5;
    private const int DepthwisePaddingField = 0;
    private const int DepthwiseStrideWField = 1;
    private const int DepthwiseStrideHField = 2;
    private const int DepthwiseActivationField = 4;
    private const int DepthwiseDilationWField = 5;
    private const int DepthwiseDilationHField = 6;
    private const int PoolPaddingField = 0;
    private const int PoolStrideWField = 1;
    private const int PoolStrideHField = 2;
    private const int PoolFilterWidthField = 3;
    private const int PoolFilterHeightField = 4;
    private const int PoolActivationField = 5;
    private const int ElementwiseActivationField = 0;
    private const int ResizeAlignCornersField = 2;
    private const int ResizeHalfPixelCentersField = 3;
    private const int ReducerKeepDimsField = 0;

    /// <summary>MediaPipe's padding enum in the custom op's options (TfLitePadding): 1 = SAME, 2 = VALID.</summary>
    private const int MediaPipePaddingSame = 1;
    private const int MediaPipePaddingValid = 2;

    private readonly TfLiteModel _source;
    private readonly ImportOptions _options;
    private readonly OnnxModel _target;

    /// <summary>Constant float tensors (TFLite layout), including the float32 results of folded Dequantize ops.</summary>
    private readonly Dictionary<int, float[]> _floatConstants = [];

    /// <summary>The name a folded constant had before Dequantize, used to name its initializer.</summary>
    private readonly Dictionary<int, string> _constantNames = [];

    /// <summary>The ONNX value name of each non-constant TFLite tensor that has been produced so far.</summary>
    private readonly Dictionary<int, string> _valueNames = [];

    private readonly HashSet<string> _usedNames = [];

    private TfLiteToOnnxConverter(TfLiteModel source, ImportOptions options)
    {
        _source = source;
        _options = options;
        _target = new OnnxModel
        {
            IrVersion = IrVersion,
            OpsetVersion = OpsetVersion,
            ProducerName = ProducerName,
            ProducerVersion = ProducerVersion,
            GraphName = options.GraphName,
            DocString = options.DocString,
        };
    }

    public static OnnxModel Convert(TfLiteModel source, ImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var converter = new TfLiteToOnnxConverter(source, options ?? new ImportOptions());
        return converter.Run();
    }

    private OnnxModel Run()
    {
        if (_source.Inputs.Count != 1 || _source.Outputs.Count != 1)
        {
            throw new InvalidDataException($"Expected one input and one output, found {_source.Inputs.Count} and {_source.Outputs.Count}.");
        }

        TfLiteTensor input = _source.Tensors[_source.Inputs[0]];
        TfLiteTensor output = _source.Tensors[_source.Outputs[0]];
        RequireImageTensor(input, "input");
        RequireImageTensor(output, "output");

        _valueNames[input.Index] = Reserve(_options.InputName);
        _target.Inputs.Add(NchwValueInfo(_options.InputName, input.Shape));

        // The output name is reserved up front so that no intermediate value can take it.
        Reserve(_options.OutputName);

        foreach (TfLiteTensor tensor in _source.Tensors)
        {
            if (tensor.IsConstant && tensor.Type == TfLiteTensorType.Float32)
            {
                _floatConstants[tensor.Index] = ReadFloat32(tensor);
                _constantNames[tensor.Index] = tensor.Name;
            }
        }

        foreach (TfLiteOperator op in _source.Operators)
        {
            ConvertOperator(op);
        }

        if (!_valueNames.TryGetValue(output.Index, out string? outputValue) || outputValue != _options.OutputName)
        {
            throw new InvalidDataException($"The graph output '{output.Name}' was never produced.");
        }

        _target.Outputs.Add(NchwValueInfo(_options.OutputName, output.Shape));
        return _target;
    }

    private void ConvertOperator(TfLiteOperator op)
    {
        switch (op.Code.Builtin)
        {
            case TfLiteBuiltinOperator.Dequantize:
                FoldDequantize(op);
                break;
            case TfLiteBuiltinOperator.Conv2D:
                ConvertConv2D(op);
                break;
            case TfLiteBuiltinOperator.DepthwiseConv2D:
                ConvertDepthwiseConv2D(op);
                break;
            case TfLiteBuiltinOperator.Add:
                ConvertElementwise(op, "Add");
                break;
            case TfLiteBuiltinOperator.Mul:
                ConvertElementwise(op, "Mul");
                break;
            case TfLiteBuiltinOperator.HardSwish:
                // ONNX HardSwish is x * max(0, min(1, x/6 + 1/2)): TFLite's exact hard-swish, not the TFJS float16 1/6.
                ConvertUnary(op, "HardSwish");
                break;
            case TfLiteBuiltinOperator.Relu:
                ConvertUnary(op, "Relu");
                break;
            case TfLiteBuiltinOperator.Relu6:
                RequireActivation(op, -1);
                EmitClip(InputValue(op, 0), OutputValue(op), 0f, 6f);
                break;
            case TfLiteBuiltinOperator.Logistic:
                ConvertUnary(op, "Sigmoid");
                break;
            case TfLiteBuiltinOperator.Tanh:
                ConvertUnary(op, "Tanh");
                break;
            case TfLiteBuiltinOperator.AveragePool2D:
                ConvertAveragePool(op);
                break;
            case TfLiteBuiltinOperator.Mean:
                ConvertMean(op);
                break;
            case TfLiteBuiltinOperator.ResizeBilinear:
                ConvertResizeBilinear(op);
                break;
            case TfLiteBuiltinOperator.Custom when op.Code.CustomCode == TransposeConvolutionCustomCode:
                ConvertTransposeConvolution(op);
                break;
            default:
                throw Unsupported(op, "the operator is not supported");
        }
    }

    private void FoldDequantize(TfLiteOperator op)
    {
        TfLiteTensor source = _source.Tensors[op.Inputs[0]];
        TfLiteTensor result = _source.Tensors[op.Outputs[0]];
        if (!source.IsConstant)
        {
            throw Unsupported(op, "only constant (weight) inputs can be dequantized");
        }

        float[] values = source.Type switch
        {
            TfLiteTensorType.Float16 => ReadFloat16(source),
            TfLiteTensorType.Float32 => ReadFloat32(source),
            _ => throw Unsupported(op, $"dequantizing {source.Type} weights is not supported"),
        };
        _floatConstants[result.Index] = values;
        _constantNames[result.Index] = source.Name;
    }

    private void ConvertConv2D(TfLiteOperator op)
    {
        FlatBufferTable options = RequireOptions(op);
        TfLiteTensor input = RequireActivation(op, 0);
        TfLiteTensor filter = _source.Tensors[op.Inputs[1]];
        float[] filterValues = RequireConstant(op, 1);

        // TFLite conv filters are OHWI; ONNX wants OIHW.
        (float[] weights, int[] weightShape) = Layout.Transpose(filterValues, filter.Shape, [0, 3, 1, 2]);
        var attributes = ConvolutionAttributes(
            op,
            input,
            kernelHeight: weightShape[2],
            kernelWidth: weightShape[3],
            samePadding: ReadPadding(op, options.GetByte(ConvPaddingField)),
            strideH: options.GetInt32(ConvStrideHField),
            strideW: options.GetInt32(ConvStrideWField),
            dilationH: options.GetInt32(ConvDilationHField, 1),
            dilationW: options.GetInt32(ConvDilationWField, 1));
        attributes.Add(OnnxAttribute.Int("group", 1));

        EmitConvolution(op, "Conv", weights, weightShape, attributes, (TfLiteActivation)options.GetByte(ConvActivationField));
    }

    private void ConvertDepthwiseConv2D(TfLiteOperator op)
    {
        FlatBufferTable options = RequireOptions(op);
        TfLiteTensor input = RequireActivation(op, 0);
        TfLiteTensor filter = _source.Tensors[op.Inputs[1]];
        float[] filterValues = RequireConstant(op, 1);

        // TFLite depthwise filters are [1, kh, kw, C·M]; ONNX grouped conv wants [C·M, 1, kh, kw] with group = C.
        (float[] weights, int[] weightShape) = Layout.Transpose(filterValues, filter.Shape, [3, 0, 1, 2]);
        var attributes = ConvolutionAttributes(
            op,
            input,
            kernelHeight: weightShape[2],
            kernelWidth: weightShape[3],
            samePadding: ReadPadding(op, options.GetByte(DepthwisePaddingField)),
            strideH: options.GetInt32(DepthwiseStrideHField),
            strideW: options.GetInt32(DepthwiseStrideWField),
            dilationH: options.GetInt32(DepthwiseDilationHField, 1),
            dilationW: options.GetInt32(DepthwiseDilationWField, 1));
        attributes.Add(OnnxAttribute.Int("group", input.Shape[3]));

        EmitConvolution(op, "Conv", weights, weightShape, attributes, (TfLiteActivation)options.GetByte(DepthwiseActivationField));
    }

    private void ConvertTransposeConvolution(TfLiteOperator op)
    {
        if (op.CustomOptions.Length != 3 * sizeof(int))
        {
            throw Unsupported(op, $"expected 12 bytes of custom options (padding, stride_w, stride_h), found {op.CustomOptions.Length}");
        }

        ReadOnlySpan<byte> raw = op.CustomOptions.Span;
        int padding = BinaryPrimitives.ReadInt32LittleEndian(raw);
        int strideW = BinaryPrimitives.ReadInt32LittleEndian(raw[4..]);
        int strideH = BinaryPrimitives.ReadInt32LittleEndian(raw[8..]);
        if (padding is not (MediaPipePaddingSame or MediaPipePaddingValid) || strideW < 1 || strideH < 1)
        {
            throw Unsupported(op, $"unexpected options padding={padding}, stride_w={strideW}, stride_h={strideH}");
        }

        TfLiteTensor input = RequireActivation(op, 0);
        TfLiteTensor output = RequireActivation(op, -1);
        TfLiteTensor filter = _source.Tensors[op.Inputs[1]];
        float[] filterValues = RequireConstant(op, 1);

        // The filter is OHWI; ConvTranspose wants [in, out, kh, kw].
        (float[] weights, int[] weightShape) = Layout.Transpose(filterValues, filter.Shape, [3, 0, 1, 2]);
        int kernelHeight = weightShape[2];
        int kernelWidth = weightShape[3];
        bool samePadding = padding == MediaPipePaddingSame;

        // Pads are those of the forward convolution that maps the output size back to the input size;
        // whatever ConvTranspose would then still be short of the expected output goes into output_padding.
        (int top, int bottom, int extraH) = TransposePadding(input.Shape[1], output.Shape[1], kernelHeight, strideH, samePadding);
        (int left, int right, int extraW) = TransposePadding(input.Shape[2], output.Shape[2], kernelWidth, strideW, samePadding);
        if (extraH < 0 || extraW < 0 || extraH >= strideH || extraW >= strideW)
        {
            throw Unsupported(op, $"output size {output.Shape[1]}x{output.Shape[2]} cannot come from input {input.Shape[1]}x{input.Shape[2]}");
        }

        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.Ints("kernel_shape", kernelHeight, kernelWidth),
            OnnxAttribute.Ints("strides", strideH, strideW),
            OnnxAttribute.Ints("pads", top, left, bottom, right),
            OnnxAttribute.Ints("output_padding", extraH, extraW),
            OnnxAttribute.Ints("dilations", 1, 1),
            OnnxAttribute.Int("group", 1),
        };
        EmitConvolution(op, "ConvTranspose", weights, weightShape, attributes, TfLiteActivation.None);
    }

    private static (int Before, int After, int OutputPadding) TransposePadding(int inputSize, int outputSize, int kernelSize, int stride, bool samePadding)
    {
        (int before, int after) = samePadding ? Layout.SamePadding(outputSize, kernelSize, stride, 1) : (0, 0);
        int producedSize = (stride * (inputSize - 1)) + kernelSize - before - after;
        return (before, after, outputSize - producedSize);
    }

    private List<OnnxAttribute> ConvolutionAttributes(TfLiteOperator op, TfLiteTensor input, int kernelHeight, int kernelWidth, bool samePadding, int strideH, int strideW, int dilationH, int dilationW)
    {
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1)
        {
            throw Unsupported(op, $"invalid strides {strideH}x{strideW} or dilations {dilationH}x{dilationW}");
        }

        TfLiteTensor output = RequireActivation(op, -1);
        int inputHeight = input.Shape[1];
        int inputWidth = input.Shape[2];
        if (Layout.ConvolutionOutputSize(inputHeight, kernelHeight, strideH, dilationH, samePadding) != output.Shape[1]
            || Layout.ConvolutionOutputSize(inputWidth, kernelWidth, strideW, dilationW, samePadding) != output.Shape[2])
        {
            throw Unsupported(op, "the output size does not match the padding, strides and kernel");
        }

        (int top, int bottom) = samePadding ? Layout.SamePadding(inputHeight, kernelHeight, strideH, dilationH) : (0, 0);
        (int left, int right) = samePadding ? Layout.SamePadding(inputWidth, kernelWidth, strideW, dilationW) : (0, 0);
        return
        [
            OnnxAttribute.Ints("kernel_shape", kernelHeight, kernelWidth),
            OnnxAttribute.Ints("strides", strideH, strideW),
            OnnxAttribute.Ints("pads", top, left, bottom, right),
            OnnxAttribute.Ints("dilations", dilationH, dilationW),
        ];
    }

    /// <summary>Emits a Conv or ConvTranspose with its weight and bias initializers, then any fused activation.</summary>
    private void EmitConvolution(TfLiteOperator op, string opType, float[] weights, int[] weightShape, List<OnnxAttribute> attributes, TfLiteActivation activation)
    {
        string weightName = AddInitializer(ConstantName(op.Inputs[1]), weights, weightShape);
        var inputs = new List<string> { InputValue(op, 0), weightName };
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            float[] bias = RequireConstant(op, 2);
            inputs.Add(AddInitializer(ConstantName(op.Inputs[2]), bias, [bias.Length]));
        }

        EmitWithActivation(op, opType, inputs, attributes, activation);
    }

    private void ConvertElementwise(TfLiteOperator op, string opType)
    {
        RequireActivation(op, -1);
        var inputs = new List<string>(2);
        for (int position = 0; position < 2; position++)
        {
            inputs.Add(_floatConstants.ContainsKey(op.Inputs[position]) ? ConstantOperand(op, position) : InputValue(op, position));
        }

        var activation = (TfLiteActivation)(op.BuiltinOptions?.GetByte(ElementwiseActivationField) ?? 0);
        EmitWithActivation(op, opType, inputs, [], activation);
    }

    /// <summary>
    /// A constant operand of Add/Mul as an NCHW-broadcastable initializer. A per-channel [C] vector broadcasts on
    /// NHWC's last axis, which in NCHW would be W: it becomes [C,1,1] so that it broadcasts over channels again.
    /// </summary>
    private string ConstantOperand(TfLiteOperator op, int position)
    {
        TfLiteTensor tensor = _source.Tensors[op.Inputs[position]];
        float[] values = _floatConstants[tensor.Index];
        string name = ConstantName(tensor.Index);
        switch (tensor.Shape.Length)
        {
            case 0:
                return AddInitializer(name, values, []);
            case 1 when tensor.Shape[0] == 1:
                return AddInitializer(name, values, [1]);
            case 1:
                return AddInitializer(name, values, [tensor.Shape[0], 1, 1]);
            case 4:
                (float[] nchw, int[] nchwShape) = Layout.Transpose(values, tensor.Shape, [0, 3, 1, 2]);
                return AddInitializer(name, nchw, nchwShape);
            default:
                throw Unsupported(op, $"a constant operand of rank {tensor.Shape.Length} has no NCHW equivalent here");
        }
    }

    private void ConvertUnary(TfLiteOperator op, string opType)
    {
        RequireActivation(op, -1);
        AddNode(opType, OutputValue(op), [InputValue(op, 0)], []);
    }

    private void ConvertAveragePool(TfLiteOperator op)
    {
        FlatBufferTable options = RequireOptions(op);
        TfLiteTensor input = RequireActivation(op, 0);
        bool samePadding = ReadPadding(op, options.GetByte(PoolPaddingField));
        int filterHeight = options.GetInt32(PoolFilterHeightField);
        int filterWidth = options.GetInt32(PoolFilterWidthField);
        var activation = (TfLiteActivation)options.GetByte(PoolActivationField);

        if (!samePadding && filterHeight == input.Shape[1] && filterWidth == input.Shape[2])
        {
            // A VALID pool over the whole map is a global mean (squeeze-and-excite). ReduceMean accumulates more
            // accurately in ONNX Runtime than GlobalAveragePool, which matters with pre-sigmoid values near ±760.
            EmitWithActivation(op, "ReduceMean", [InputValue(op, 0)], [OnnxAttribute.Ints("axes", 2, 3), OnnxAttribute.Int("keepdims", 1)], activation);
            return;
        }

        var attributes = ConvolutionAttributes(
            op,
            input,
            filterHeight,
            filterWidth,
            samePadding,
            strideH: options.GetInt32(PoolStrideHField),
            strideW: options.GetInt32(PoolStrideWField),
            dilationH: 1,
            dilationW: 1);

        // ONNX AveragePool (opset 14) has no dilations; TFLite averages over the valid (unpadded) cells only.
        attributes.RemoveAll(attribute => attribute.Name == "dilations");
        attributes.Add(OnnxAttribute.Int("count_include_pad", 0));
        EmitWithActivation(op, "AveragePool", [InputValue(op, 0)], attributes, activation);
    }

    private void ConvertMean(TfLiteOperator op)
    {
        RequireActivation(op, 0);
        RequireActivation(op, -1);
        bool keepDims = op.BuiltinOptions?.GetBool(ReducerKeepDimsField) ?? false;
        if (!keepDims)
        {
            throw Unsupported(op, "Mean without keep_dims would leave a tensor that is not NCHW");
        }

        int[] axes = ReadInt32Constant(op, 1);
        var nchwAxes = new long[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            nchwAxes[i] = Layout.NhwcAxisToNchw(axes[i] < 0 ? axes[i] + 4 : axes[i]);
        }

        Array.Sort(nchwAxes);
        AddNode("ReduceMean", OutputValue(op), [InputValue(op, 0)], [OnnxAttribute.Ints("axes", nchwAxes), OnnxAttribute.Int("keepdims", 1)]);
    }

    private void ConvertResizeBilinear(TfLiteOperator op)
    {
        TfLiteTensor input = RequireActivation(op, 0);
        RequireActivation(op, -1);
        int[] size = ReadInt32Constant(op, 1);
        if (size.Length != 2)
        {
            throw Unsupported(op, "the size input must hold [height, width]");
        }

        bool alignCorners = op.BuiltinOptions?.GetBool(ResizeAlignCornersField) ?? false;
        bool halfPixelCenters = op.BuiltinOptions?.GetBool(ResizeHalfPixelCentersField) ?? false;
        string coordinateMode = (alignCorners, halfPixelCenters) switch
        {
            (true, false) => "align_corners",
            (false, true) => "half_pixel",
            (false, false) => "asymmetric",
            _ => throw Unsupported(op, "align_corners and half_pixel_centers cannot both be set"),
        };

        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.String("mode", "linear"),
            OnnxAttribute.String("coordinate_transformation_mode", coordinateMode),
        };

        int inputHeight = input.Shape[1];
        int inputWidth = input.Shape[2];
        string outputName = OutputValue(op);
        if (size[0] % inputHeight == 0 && size[1] % inputWidth == 0)
        {
            // Whole-number scales keep the batch dynamic and are exact: ONNX Runtime computes floor(in × scale).
            string scales = AddInitializer(
                $"{outputName}/scales",
                [1f, 1f, size[0] / inputHeight, size[1] / inputWidth],
                [4]);
            AddNode("Resize", outputName, [InputValue(op, 0), "", scales], attributes);
            return;
        }

        // Other ratios need exact sizes, but sizes cover every axis: take N and C from the input's shape at run time.
        string shape = AddNode("Shape", $"{outputName}/input_shape", [InputValue(op, 0)], []);
        string batchAndChannels = AddNode(
            "Slice",
            $"{outputName}/batch_and_channels",
            [shape, AddInt64Initializer($"{outputName}/slice_start", [0]), AddInt64Initializer($"{outputName}/slice_end", [2])],
            []);
        string spatialSize = AddInt64Initializer($"{outputName}/spatial_size", [size[0], size[1]]);
        string sizes = AddNode("Concat", $"{outputName}/sizes", [batchAndChannels, spatialSize], [OnnxAttribute.Int("axis", 0)]);
        AddNode("Resize", outputName, [InputValue(op, 0), "", "", sizes], attributes);
    }

    private void EmitWithActivation(TfLiteOperator op, string opType, List<string> inputs, List<OnnxAttribute> attributes, TfLiteActivation activation)
    {
        string output = OutputValue(op);
        if (activation == TfLiteActivation.None)
        {
            AddNode(opType, output, inputs, attributes);
            return;
        }

        string preActivation = AddNode(opType, Reserve($"{output}/pre_activation"), inputs, attributes);
        switch (activation)
        {
            case TfLiteActivation.Relu:
                AddNode("Relu", output, [preActivation], []);
                break;
            case TfLiteActivation.Relu6:
                EmitClip(preActivation, output, 0f, 6f);
                break;
            case TfLiteActivation.ReluN1To1:
                EmitClip(preActivation, output, -1f, 1f);
                break;
            case TfLiteActivation.Tanh:
                AddNode("Tanh", output, [preActivation], []);
                break;
            default:
                throw Unsupported(op, $"fused activation {activation} is not supported");
        }
    }

    /// <summary>Clip takes its bounds as inputs since opset 11.</summary>
    private void EmitClip(string input, string output, float min, float max)
    {
        string minName = AddInitializer($"{output}/clip_min", [min], []);
        string maxName = AddInitializer($"{output}/clip_max", [max], []);
        AddNode("Clip", output, [input, minName, maxName], []);
    }

    /// <summary>Adds a node named after its (single) output and returns that output name.</summary>
    private string AddNode(string opType, string output, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        _target.Nodes.Add(new OnnxNode(opType, output, inputs, [output], attributes));
        return output;
    }

    private string AddInitializer(string preferredName, float[] values, int[] shape)
    {
        string name = Reserve(preferredName);
        var dims = new long[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            dims[i] = shape[i];
        }

        _target.Initializers.Add(OnnxTensor.FromFloats(name, dims, values));
        return name;
    }

    private string AddInt64Initializer(string preferredName, long[] values)
    {
        string name = Reserve(preferredName);
        _target.Initializers.Add(OnnxTensor.FromInt64s(name, [values.Length], values));
        return name;
    }

    /// <summary>Claims a unique value name, suffixing _1, _2 … when the preferred one is taken.</summary>
    private string Reserve(string preferredName)
    {
        string name = preferredName;
        for (int suffix = 1; !_usedNames.Add(name); suffix++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{preferredName}_{suffix}");
        }

        return name;
    }

    private string InputValue(TfLiteOperator op, int position)
    {
        int tensorIndex = op.Inputs[position];
        if (tensorIndex < 0 || !_valueNames.TryGetValue(tensorIndex, out string? name))
        {
            string tensorName = tensorIndex < 0 ? "(omitted)" : _source.Tensors[tensorIndex].Name;
            throw Unsupported(op, $"input {position} ('{tensorName}') is not a value produced earlier in the graph");
        }

        return name;
    }

    /// <summary>The ONNX name for the operator's output: the graph's output name for the final tensor, else the TFLite name.</summary>
    private string OutputValue(TfLiteOperator op)
    {
        if (op.Outputs.Length != 1)
        {
            throw Unsupported(op, $"expected one output, found {op.Outputs.Length}");
        }

        int tensorIndex = op.Outputs[0];
        if (_valueNames.TryGetValue(tensorIndex, out string? existing))
        {
            return existing;
        }

        string name = tensorIndex == _source.Outputs[0] ? _options.OutputName : Reserve(_source.Tensors[tensorIndex].Name);
        _valueNames[tensorIndex] = name;
        return name;
    }

    private string ConstantName(int tensorIndex) => _constantNames.TryGetValue(tensorIndex, out string? name) ? name : _source.Tensors[tensorIndex].Name;

    private float[] RequireConstant(TfLiteOperator op, int position)
    {
        int tensorIndex = op.Inputs[position];
        if (tensorIndex < 0 || !_floatConstants.TryGetValue(tensorIndex, out float[]? values))
        {
            throw Unsupported(op, $"input {position} must be a constant float tensor");
        }

        return values;
    }

    private int[] ReadInt32Constant(TfLiteOperator op, int position)
    {
        TfLiteTensor tensor = _source.Tensors[op.Inputs[position]];
        if (!tensor.IsConstant || tensor.Type != TfLiteTensorType.Int32)
        {
            throw Unsupported(op, $"input {position} must be a constant int32 tensor");
        }

        var values = new int[tensor.Data.Length / sizeof(int)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(tensor.Data.Span[(i * sizeof(int))..]);
        }

        return values;
    }

    /// <summary>An NHWC float tensor of the operator (position -1 = its output); every activation here is 4-D.</summary>
    private TfLiteTensor RequireActivation(TfLiteOperator op, int position)
    {
        TfLiteTensor tensor = _source.Tensors[position < 0 ? op.Outputs[0] : op.Inputs[position]];
        if (tensor.Type != TfLiteTensorType.Float32 || tensor.Shape.Length != 4)
        {
            throw Unsupported(op, $"tensor '{tensor.Name}' is {tensor.Type}[{string.Join(',', tensor.Shape)}]; only 4-D float32 activations are supported");
        }

        return tensor;
    }

    private FlatBufferTable RequireOptions(TfLiteOperator op) =>
        op.BuiltinOptions ?? throw Unsupported(op, "its builtin options are missing");

    private bool ReadPadding(TfLiteOperator op, byte padding) => (TfLitePadding)padding switch
    {
        TfLitePadding.Same => true,
        TfLitePadding.Valid => false,
        _ => throw Unsupported(op, $"padding {padding} is not supported"),
    };

    private UnsupportedOperatorException Unsupported(TfLiteOperator op, string reason)
    {
        string outputName = op.Outputs.Length > 0 ? _source.Tensors[op.Outputs[0]].Name : "(none)";
        return new UnsupportedOperatorException(
            $"Cannot import TFLite {op.Code.DisplayName} at operator index {op.Index} (output tensor '{outputName}'): {reason}.");
    }

    private static void RequireImageTensor(TfLiteTensor tensor, string role)
    {
        if (tensor.Type != TfLiteTensorType.Float32 || tensor.Shape.Length != 4)
        {
            throw new InvalidDataException($"The graph {role} '{tensor.Name}' must be a 4-D float32 NHWC tensor, not {tensor.Type}[{string.Join(',', tensor.Shape)}].");
        }
    }

    private OnnxValueInfo NchwValueInfo(string name, int[] nhwcShape) => new(
        name,
        OnnxDataType.Float,
        [
            OnnxDimension.Symbolic(_options.BatchDimension),
            OnnxDimension.Fixed(nhwcShape[3]),
            OnnxDimension.Fixed(nhwcShape[1]),
            OnnxDimension.Fixed(nhwcShape[2]),
        ]);

    private static float[] ReadFloat32(TfLiteTensor tensor)
    {
        ReadOnlySpan<byte> data = tensor.Data.Span;
        var values = new float[tensor.ElementCount];
        if (data.Length != values.Length * sizeof(float))
        {
            throw new InvalidDataException($"Tensor '{tensor.Name}' holds {data.Length} bytes, not {values.Length} float32 values.");
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * sizeof(float))..]);
        }

        return values;
    }

    /// <summary>Widens IEEE half-precision weights; every half is exactly representable as a float.</summary>
    private static float[] ReadFloat16(TfLiteTensor tensor)
    {
        ReadOnlySpan<byte> data = tensor.Data.Span;
        var values = new float[tensor.ElementCount];
        if (data.Length != values.Length * sizeof(ushort))
        {
            throw new InvalidDataException($"Tensor '{tensor.Name}' holds {data.Length} bytes, not {values.Length} float16 values.");
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(i * sizeof(ushort))..]);
        }

        return values;
    }
}
